// quic_initial: matches QUIC v1 Initial packets (long header, type 0) to
// UDP port 443; filter.
// verdict: accept
// kernel: accept. Constant offsets after one length check.
#include "corpus.h"

#define Q (ETH_HLEN + 20 + 8)

SEC("filter")
__u64 quic_initial(void *pkt, __u64 len)
{
	if (len < Q + 5)
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	struct udp *udp = pkt + ETH_HLEN + 20;
	if (ip->proto != IPPROTO_UDP || udp->dport != bpf_htons(443))
		return GOKO_NO_MATCH;
	__u8 *q = pkt + Q;
	__u32 ver = q[1] << 24 | q[2] << 16 | q[3] << 8 | q[4];
	return (q[0] & 0xf0) == 0xc0 && ver == 1;
}
