// tcp_options_len: tcp_options in the len style.
// verdict: accept
// kernel: accept (as its data_end twin tcp_options.c).
#include "corpus.h"

SEC("filter")
__u64 tcp_options_len(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + 20 + sizeof(struct tcp))
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	struct tcp *tcp = pkt + ETH_HLEN + 20;
	if (ip->proto != IPPROTO_TCP || !(tcp->flags & TCP_SYN))
		return GOKO_NO_MATCH;
	__u32 optlen = (tcp->doff >> 4) * 4;
	if (optlen <= 20)
		return GOKO_NO_MATCH;
	optlen -= 20;
	__u64 base = ETH_HLEN + 20 + 20;
	__u64 off = 0;
	for (int i = 0; i < 10; i++) {
		off &= 63;
		if (off >= optlen || base + off + 4 > len)
			break;
		__u8 *o = pkt + base + off;
		if (o[0] == 0)
			break;
		if (o[0] == 1) {
			off++;
			continue;
		}
		if (o[0] == 2 && o[1] == 4)
			return ((o[2] << 8) | o[3]) < 536;
		if (o[1] < 2)
			break;
		off += o[1];
	}
	return GOKO_NO_MATCH;
}
