// ddos: a DDoS mitigator: an LPM blocklist of source prefixes with
// per-prefix drop counters.
//
// A controller (or an operator) puts attacking prefixes into `blocklist`,
// of any length from /0 to /32; the longest matching prefix wins. The
// filter matches the packets it lets through, and every packet it stops is
// counted in the value of the prefix that stopped it (packets and bytes),
// so dump-map tells which prefixes are still attacking:
//
//     priority=20,ip,in_port=1,filter_prog=6 actions=output:2
//     priority=10,ip,in_port=1 actions=drop
//
//     ofctl update-map br0 6 blocklist lpm:10.1.0.0/16 u32:0,u32:0,u64:0,u64:0
//     ofctl update-map br0 6 blocklist lpm:10.1.2.0/24 u32:1,u32:0,u64:0,u64:0
//     ofctl dump-map br0 6 blocklist --hex
//
// A prefix whose value has `allow` set is an exception inside a blocked
// range (say 10.1.0.0/16 blocked but 10.1.2.0/24 allowed): its packets
// match, and are counted too.
//
// Maps:
//   blocklist  LPM trie: struct lpm_v4 -> struct verdict
//   totals     per-thread array: [0] packets passed, [1] packets dropped
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <goko_helpers.h>

struct lpm_v4 {
	__u32 prefixlen; // host byte order
	__u32 addr;      // network byte order
};

struct verdict {
	__u32 allow; // 0: drop, 1: let through (an exception)
	__u32 pad;
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__type(key, struct lpm_v4);
	__type(value, struct verdict);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocklist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

static __always_inline __u64 total(__u32 which, __u64 verdict)
{
	__u64 *c = bpf_map_lookup_elem(&totals, &which);
	if (c)
		*c += 1; // per-thread: no atomic needed
	return verdict;
}

SEC("filter")
__u64 ddos(void *pkt, __u64 len)
{
	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return GOKO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);

	struct lpm_v4 k = {.prefixlen = 32, .addr = ip->saddr};
	struct verdict *v = bpf_map_lookup_elem(&blocklist, &k);
	if (!v)
		return total(0, GOKO_MATCH);
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, len);
	if (v->allow)
		return total(0, GOKO_MATCH);
	return total(1, GOKO_NO_MATCH);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
