// heavyhitter: bytes per source in a count-min sketch a controller can read.
//
// The sketch is a plain array map of DEPTH rows of WIDTH counters, so
// `ofctl dump-map` shows the raw counters and a controller can compute the
// estimate of any address itself: for row r the counter index is
//
//     r * WIDTH + ((saddr ^ SEED[r]) * 0x9e3779b1 mod 2^32) >> (32 - LOG2_WIDTH)
//
// (saddr is the address as a little-endian __u32 of its network-order
// bytes, the way the program loads it) and the estimate is the smallest of
// the DEPTH counters. The program also keeps the sources whose estimate
// crossed `threshold` bytes in `hitters`, so a controller that only wants
// the heavy hitters dumps that small map (or has the switch push it with
// the send_maps action).
//
// The filter always matches: it is a monitor. For example
//
//     priority=10,ip,in_port=1,filter_prog=5 actions=output:2,send_maps(prog=5,map=hitters)
//
// Maps:
//   cms      array[DEPTH * WIDTH] of __u64: bytes (Ethernet frame lengths)
//   hitters  LRU hash: source -> __u64 estimated bytes
//   config   array[1]: __u64 threshold in bytes (0 = 100000),
//            e.g. ofctl update-map br0 5 config 0 1000000
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <goko_helpers.h>

#define DEPTH 4
#define LOG2_WIDTH 8
#define WIDTH (1 << LOG2_WIDTH)

static const __u32 SEED[DEPTH] = {0x00000000, 0x5bd1e995, 0x1b873593, 0xcc9e2d51};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DEPTH * WIDTH);
	__type(key, __u32);
	__type(value, __u64);
} cms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} hitters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} config SEC(".maps");

SEC("filter")
__u64 heavyhitter(void *pkt, __u64 len)
{
	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return GOKO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);
	__u32 src = ip->saddr;

	__u64 est = ~0ULL;
	for (int r = 0; r < DEPTH; r++) {
		__u32 idx = r * WIDTH + (((src ^ SEED[r]) * 0x9e3779b1u) >> (32 - LOG2_WIDTH));
		__u64 *c = bpf_map_lookup_elem(&cms, &idx);
		if (!c)
			return GOKO_MATCH;
		__u64 v = __sync_fetch_and_add(c, len) + len;
		if (v < est)
			est = v;
	}

	__u64 threshold = 100000;
	__u32 zero = 0;
	__u64 *t = bpf_map_lookup_elem(&config, &zero);
	if (t && *t)
		threshold = *t;
	if (est >= threshold)
		bpf_map_update_elem(&hitters, &src, &est, BPF_ANY);
	return GOKO_MATCH;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
