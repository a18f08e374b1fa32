// ipv4_frag: matches non-first IPv4 fragments and tiny first fragments.
// verdict: accept
// kernel: accept. Constant offsets after one length check.
#include "corpus.h"

SEC("filter")
__u64 ipv4_frag(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + 20)
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	__u16 frag = bpf_ntohs(ip->frag);
	if (frag & 0x1fff)
		return GOKO_MATCH;
	return (frag & 0x2000) && bpf_ntohs(ip->tot_len) < 68;
}
