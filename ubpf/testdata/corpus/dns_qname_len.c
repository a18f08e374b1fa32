// dns_qname_len: dns_qname_end in the len style docs/writing-filters.md
// teaches ("if (q + i + 1 > len)").
// verdict: accept
// verdict-v2: accept
// kernel: accept (as its data_end twin dns_qname_end.c, which Linux
// verifies in a few thousand instructions). issue 12 reports goko rejects
// this one as too complex while it accepts the twin.
#include "corpus.h"

#define DNS_OFF (ETH_HLEN + 20 + 8 + 12)

SEC("filter")
__u64 dns_qname_len(void *pkt, __u64 len)
{
	if (len < DNS_OFF)
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	struct udp *udp = pkt + ETH_HLEN + 20;
	if (ip->proto != IPPROTO_UDP || udp->dport != bpf_htons(53))
		return GOKO_NO_MATCH;
	__u64 q = DNS_OFF;
	int labels = 0, next = 0;
	for (int i = 0; i < 32; i++) {
		if (q + i + 1 > len)
			break;
		if (i == next) {
			__u8 l = *(__u8 *)(pkt + q + i);
			if (l == 0)
				break;
			labels++;
			next = i + l + 1;
		}
	}
	return labels > 4;
}
