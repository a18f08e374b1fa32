// synflood: a SYN-flood detector with a count-min sketch per source.
//
// Every TCP SYN (without ACK) adds one to its source address's count in
// the current one-second window, kept in goko's count-min sketch map (a
// few KiB whatever the number of sources). The filter MATCHES a SYN whose
// source sent more than `threshold` SYNs in the current second: it is a
// detector, so the flow that uses it drops what it detects and lower
// priority flows forward the rest:
//
//     priority=30,tcp,filter_prog=4 actions=drop
//     priority=10,in_port=1 actions=output:2
//
// Every source that crossed the threshold is recorded in `offenders` with
// its latest estimate, for the controller (dump-map).
//
// The window is part of the sketch key ({source, second}), so a new
// second starts counting from zero without clearing the sketch. Counts of
// old seconds stay in the sketch and slowly raise the estimate error
// (count-min overestimates by at most total/width with high probability):
// with width 4096 that is a problem only after millions of SYNs, and
// reloading the program with a different sketch declaration resets it.
//
// Maps:
//   syn_sketch  count-min sketch (goko map type), key struct window_key
//   offenders   LRU hash: source -> struct offender
//   config      array[1]: __u64 threshold (SYNs per second; 0 = 100),
//               e.g. ofctl update-map br0 4 config 0 500
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <goko_helpers.h>

struct window_key {
	__u32 saddr;  // network byte order
	__u32 second; // bpf_ktime_get_ns() / 1e9
};

struct offender {
	__u64 estimate; // SYNs in the second it was last seen above the threshold
	__u64 second;
	__u64 dropped;  // SYNs matched (and so dropped by the flow)
};

struct {
	__uint(type, GOKO_MAP_TYPE_COUNT_MIN);
	__uint(max_entries, 4096); // counters per row
	__uint(map_extra, 4);      // rows
	__type(key, struct window_key);
	__type(value, __u64);
} syn_sketch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct offender);
} offenders SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} config SEC(".maps");

SEC("filter")
__u64 synflood(void *pkt, __u64 len)
{
	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return GOKO_NO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_NO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);
	if (ip->protocol != IPPROTO_TCP)
		return GOKO_NO_MATCH;
	__u64 l4 = sizeof(*eth) + (ip->ihl & 0xf) * 4;
	if (l4 + sizeof(struct tcphdr) > len)
		return GOKO_NO_MATCH;
	struct tcphdr *tcp = pkt + l4;
	if (!tcp->syn || tcp->ack)
		return GOKO_NO_MATCH;

	__u64 second = bpf_ktime_get_ns() / 1000000000ULL;
	struct window_key k = {.saddr = ip->saddr, .second = (__u32)second};
	__u64 n = goko_cms_add(&syn_sketch, &k, 1);

	__u64 threshold = 100;
	__u32 zero = 0;
	__u64 *t = bpf_map_lookup_elem(&config, &zero);
	if (t && *t)
		threshold = *t;
	if (n <= threshold)
		return GOKO_NO_MATCH;

	__u32 src = ip->saddr;
	struct offender *o = bpf_map_lookup_elem(&offenders, &src);
	if (!o) {
		struct offender no = {.estimate = n, .second = second, .dropped = 1};
		bpf_map_update_elem(&offenders, &src, &no, BPF_ANY);
		return GOKO_MATCH;
	}
	o->estimate = n;
	o->second = second;
	__sync_fetch_and_add(&o->dropped, 1);
	return GOKO_MATCH;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
