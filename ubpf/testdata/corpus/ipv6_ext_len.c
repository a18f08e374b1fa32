// ipv6_ext_len: ipv6_ext in the len style of Oko filters.
// verdict: accept
// kernel: accept (as its data_end twin ipv6_ext.c): constant loop bound,
// every read is checked first, the offset is masked to stay bounded.
#include "corpus.h"

SEC("filter")
__u64 ipv6_ext_len(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + sizeof(struct ip6))
		return GOKO_NO_MATCH;
	struct eth *eth = pkt;
	struct ip6 *ip6 = pkt + ETH_HLEN;
	if (eth->proto != bpf_htons(ETH_P_IPV6))
		return GOKO_NO_MATCH;
	__u8 nh = ip6->nexthdr;
	__u64 off = ETH_HLEN + sizeof(*ip6);
	for (int i = 0; i < 6; i++) {
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
			break;
		off &= 0x3fff;
		if (off + 8 > len)
			return GOKO_NO_MATCH;
		__u8 *h = pkt + off;
		nh = h[0];
		off += nh == IPPROTO_FRAGMENT ? 8 : (h[1] + 1) * 8;
	}
	if (nh != IPPROTO_TCP)
		return GOKO_NO_MATCH;
	off &= 0x3fff;
	if (off + sizeof(struct tcp) > len)
		return GOKO_NO_MATCH;
	struct tcp *tcp = pkt + off;
	return tcp->dport == bpf_htons(22);
}
