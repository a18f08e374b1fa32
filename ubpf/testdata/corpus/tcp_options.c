// tcp_options: reads the MSS option of a TCP SYN, walking at most 10
// options within the 40 option bytes; XDP with data_end.
// verdict: accept
// verdict-v2: accept
// kernel: accept. Constant loop bound; the option offset is masked to 63,
// the option pointer is checked against data_end and every read goes
// through that same pointer (reading through a recomputed opt + off would
// need Linux to link the two pointers, which it does not).
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
	__u64 off = 0;
	for (int i = 0; i < 10; i++) {
		off &= 63;
		__u8 *o = opt + off;
		if (off >= optlen || (void *)(o + 4) > end)
			break;
		if (o[0] == 0)
			break;
		if (o[0] == 1) {
			off++;
			continue;
		}
		if (o[0] == 2 && o[1] == 4) {
			__u16 mss = (o[2] << 8) | o[3];
			return mss < 536 ? XDP_DROP : XDP_PASS;
		}
		if (o[1] < 2)
			break;
		off += o[1];
	}
	return XDP_PASS;
}
