// udp_port: matches IPv4 UDP packets to port 53 (fixed offsets, len style).
// verdict: accept
// kernel: accept. Every access is at a constant offset below 42 and the
// single length check proves 42 bytes. (Linux has no len-style programs;
// this is the verdict of the same logic against data_end, and goko's docs
// teach the len style as its equivalent.)
#include "corpus.h"

SEC("filter")
__u64 udp_port(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + sizeof(struct ip4) + sizeof(struct udp))
		return GOKO_NO_MATCH;
	struct eth *eth = pkt;
	struct ip4 *ip = pkt + ETH_HLEN;
	struct udp *udp = pkt + ETH_HLEN + sizeof(*ip);
	if (eth->proto != bpf_htons(ETH_P_IP) || ip->proto != IPPROTO_UDP || (ip->vihl & 0xf) != 5)
		return GOKO_NO_MATCH;
	return udp->dport == bpf_htons(53) ? GOKO_MATCH : GOKO_NO_MATCH;
}
