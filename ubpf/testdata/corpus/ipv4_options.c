// ipv4_options: walks the IPv4 options (at most 10) looking for Record
// Route (7), in the len style.
// verdict: accept
// kernel: accept (for the data_end twin). The loop has a constant bound
// (10 iterations) and each iteration checks the option's two bytes against
// the length before reading them; the offset is a 64-bit variable (so the
// check and the reads are on the same register plus constants) and stays
// bounded (at most 14 + 60 + 10*255).
#include "corpus.h"

SEC("filter")
__u64 ipv4_options(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + sizeof(struct ip4))
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	__u64 hlen = (ip->vihl & 0xf) * 4;
	if (hlen <= 20)
		return GOKO_NO_MATCH;
	__u64 off = ETH_HLEN + 20, end = ETH_HLEN + hlen;
	for (int i = 0; i < 10; i++) {
		if (off >= end || off + 2 > len)
			break;
		__u8 type = *(__u8 *)(pkt + off);
		if (type == 0) /* end of options */
			break;
		if (type == 1) { /* no-op */
			off++;
			continue;
		}
		if (type == 7)
			return GOKO_MATCH;
		__u8 olen = *(__u8 *)(pkt + off + 1);
		if (olen < 2)
			break;
		off += olen;
	}
	return GOKO_NO_MATCH;
}
