// firewall: a stateless firewall with two exact-match blocklists.
//
// An IPv4 packet is blocked when its source address is in deny_src, or
// when its protocol and destination port (TCP or UDP) are in deny_port.
// The filter matches the packets it lets through, so
//
//     priority=20,ip,filter_prog=2 actions=output:2
//     priority=10,ip actions=drop
//
// forwards allowed traffic and drops the rest. Packets that are not IPv4
// match. Both maps start empty (nothing blocked); a controller fills them:
//
//     ofctl update-map br0 2 deny_src 10.0.0.1 0
//     ofctl update-map br0 2 deny_port u8:6,u8:0,be16:22 0      # tcp/22
//
// Each entry's value counts the packets it blocked, so dump-map shows which
// rule fired how often.
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <goko_helpers.h>

struct port_key {
	__u8 proto;  // IPPROTO_TCP (6) or IPPROTO_UDP (17)
	__u8 pad;    // zero
	__u16 dport; // network byte order
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);   // IPv4 source address, network byte order
	__type(value, __u64); // packets blocked
} deny_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct port_key);
	__type(value, __u64); // packets blocked
} deny_port SEC(".maps");

SEC("filter")
__u64 firewall(void *pkt, __u64 len)
{
	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return GOKO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);

	__u32 src = ip->saddr;
	__u64 *hits = bpf_map_lookup_elem(&deny_src, &src);
	if (hits) {
		__sync_fetch_and_add(hits, 1);
		return GOKO_NO_MATCH;
	}

	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return GOKO_MATCH;
	if (ip->frag_off & bpf_htons(0x1fff))
		return GOKO_MATCH; // a later fragment: no ports to look at
	__u64 l4 = sizeof(*eth) + (ip->ihl & 0xf) * 4;
	if (l4 + 4 > len)
		return GOKO_MATCH;
	// TCP and UDP both start with the source and destination ports.
	struct port_key k = {.proto = ip->protocol, .dport = *(__u16 *)(pkt + l4 + 2)};
	hits = bpf_map_lookup_elem(&deny_port, &k);
	if (hits) {
		__sync_fetch_and_add(hits, 1);
		return GOKO_NO_MATCH;
	}
	return GOKO_MATCH;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
