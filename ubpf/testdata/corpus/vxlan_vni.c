// vxlan_vni: matches VXLAN (UDP 4789) packets of one VNI and an inner
// IPv4 destination; filter, len style.
// verdict: accept
// kernel: accept. All offsets are constants under 84, covered by one
// length check.
#include "corpus.h"

#define VXLAN_OFF (ETH_HLEN + 20 + 8)

SEC("filter")
__u64 vxlan_vni(void *pkt, __u64 len)
{
	if (len < VXLAN_OFF + 8 + ETH_HLEN + 20)
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	struct udp *udp = pkt + ETH_HLEN + 20;
	if (ip->proto != IPPROTO_UDP || udp->dport != bpf_htons(4789))
		return GOKO_NO_MATCH;
	__u8 *vx = pkt + VXLAN_OFF;
	__u32 vni = vx[4] << 16 | vx[5] << 8 | vx[6];
	struct ip4 *inner = pkt + VXLAN_OFF + 8 + ETH_HLEN;
	return vni == 5001 && inner->daddr == bpf_htonl(0xc0a80001);
}
