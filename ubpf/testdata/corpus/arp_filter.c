// arp_filter: matches ARP requests for one target address.
// verdict: accept
// kernel: accept. One length check covers all constant-offset reads.
#include "corpus.h"

SEC("filter")
__u64 arp_filter(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + 28)
		return GOKO_NO_MATCH;
	struct eth *eth = pkt;
	__u8 *arp = pkt + ETH_HLEN;
	if (eth->proto != bpf_htons(ETH_P_ARP))
		return GOKO_NO_MATCH;
	__u16 op = arp[6] << 8 | arp[7];
	__u32 tpa = *(__u32 *)(arp + 24);
	return op == 1 && tpa == bpf_htonl(0x0a000001);
}
