// tcp_options: reads the MSS option of a TCP SYN, walking at most 10
// options within the 40 option bytes; XDP with data_end.
// verdict: accept
// verdict-v2: accept
// kernel: accept. Constant loop bound; the option offset is masked to 63
// before each use and every byte read is checked against data_end.
#include "corpus.h"

SEC("xdp")
int tcp_options(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	struct tcp *tcp = data + ETH_HLEN + 20;
	if ((void *)(tcp + 1) > end || ip->proto != IPPROTO_TCP || !(tcp->flags & TCP_SYN))
		return XDP_PASS;
	__u32 optlen = (tcp->doff >> 4) * 4;
	if (optlen <= 20)
		return XDP_PASS;
	optlen -= 20;
	__u8 *opt = (__u8 *)(tcp + 1);
	__u32 off = 0;
	for (int i = 0; i < 10; i++) {
		off &= 63;
		if (off >= optlen || (void *)(opt + off + 4) > end)
			break;
		__u8 kind = opt[off];
		if (kind == 0)
			break;
		if (kind == 1) {
			off++;
			continue;
		}
		if (kind == 2 && opt[off + 1] == 4) {
			__u16 mss = (opt[off + 2] << 8) | opt[off + 3];
			return mss < 536 ? XDP_DROP : XDP_PASS;
		}
		__u8 l = opt[off + 1];
		if (l < 2)
			break;
		off += l;
	}
	return XDP_PASS;
}
