// xdp_proto: an ordinary XDP program, reused by goko as a filter unchanged.
//
// Written for the kernel (it loads with `ip link set dev IF xdp obj
// xdp_proto.o sec xdp` too), in the manner of the kernel's
// samples/bpf/xdp1: it parses Ethernet (with up to two VLAN tags), IPv4 and
// IPv6, counts packets per IP protocol in a per-CPU array and drops the
// protocols marked in `drop_proto`. goko runs it with a struct xdp_md
// context whose data/data_end point at the packet; XDP_PASS means match,
// anything else no match, so
//
//     priority=20,in_port=1,filter_prog=9 actions=output:2
//
// forwards what the program passes.
//
// Maps:
//   rxcnt       per-CPU array[256]: packets per IP protocol number (per
//               goko thread slot in goko)
//   drop_proto  array[256] of __u32: nonzero = drop that protocol, e.g.
//               UDP: ofctl update-map br0 9 drop_proto 17 1
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} rxcnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} drop_proto SEC(".maps");

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

SEC("xdp")
int xdp_proto(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 off = sizeof(*eth);
	if (data + off > data_end)
		return XDP_DROP;
	__u16 proto = eth->h_proto;

	// Up to two VLAN tags (802.1Q, 802.1ad).
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_hdr *vh = data + off;
		off += sizeof(*vh);
		if (data + off > data_end)
			return XDP_DROP;
		proto = vh->h_vlan_encapsulated_proto;
	}

	__u32 ipproto;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;
		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		ipproto = ip->protocol;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		ipproto = ip6->nexthdr;
	} else {
		return XDP_PASS; // ARP and the rest
	}

	__u64 *cnt = bpf_map_lookup_elem(&rxcnt, &ipproto);
	if (cnt)
		*cnt += 1;
	__u32 *drop = bpf_map_lookup_elem(&drop_proto, &ipproto);
	if (drop && *drop)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
