// vlan_qinq: skips up to two VLAN tags (802.1ad then 802.1Q) and matches
// IPv4 in VLAN 100; XDP.
// verdict: accept
// kernel: accept. The unrolled tag loop advances the offset by 4 at most
// twice; each tag is checked against data_end.
#include "corpus.h"

SEC("xdp")
int vlan_qinq(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	__u16 proto = eth->proto, vid = 0;
	__u32 off = ETH_HLEN;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan *v = data + off;
		if ((void *)(v + 1) > end)
			return XDP_PASS;
		vid = bpf_ntohs(v->tci) & 0xfff;
		proto = v->proto;
		off += sizeof(*v);
	}
	return proto == bpf_htons(ETH_P_IP) && vid == 100 ? XDP_PASS : XDP_DROP;
}
