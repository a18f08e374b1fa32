// ihl_var: finds the UDP header after a variable-length IPv4 header
// (ihl * 4), checked against the length.
// verdict: accept
// kernel: accept. ihl*4 is in [0, 60] (a masked nibble times four); the
// check of off + 8 against the length (data_end in the XDP twin) proves
// the 8 bytes at pkt + off for that bounded off.
#include "corpus.h"

SEC("filter")
__u64 ihl_var(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + sizeof(struct ip4))
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	if (ip->proto != IPPROTO_UDP)
		return GOKO_NO_MATCH;
	__u64 off = ETH_HLEN + (ip->vihl & 0xf) * 4;
	if (off + sizeof(struct udp) > len)
		return GOKO_NO_MATCH;
	struct udp *udp = pkt + off;
	return udp->dport == bpf_htons(4789);
}
