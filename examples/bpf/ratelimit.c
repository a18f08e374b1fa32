// ratelimit: a per-source token-bucket rate limiter.
//
// Every IPv4 source address gets a bucket of `burst` tokens that refills at
// `rate` tokens per second; a packet takes one token. The filter matches
// (GOKO_MATCH) while the sender's bucket has a token, so a flow such as
//
//     priority=20,ip,in_port=1,filter_prog=1 actions=output:2
//     priority=10,ip,in_port=1 actions=drop
//
// forwards each source at most `rate` packets per second (after an initial
// burst) and drops the excess. Packets that are not IPv4 always match.
//
// Maps:
//   config   array[1] of struct config: rate and burst. All zero (the
//            initial contents) means 10 packets/s with a burst of 10. A
//            controller changes them, e.g. to 100/s with a burst of 20:
//            ofctl update-map br0 1 config 0 u64:100,u64:20
//   buckets  LRU hash: source address (network order) -> struct bucket.
//            The tokens are counted in billionths of a token, so that a
//            refill is one multiplication (elapsed ns x rate).
//
// Buckets are updated without a lock: two threads that run the program on
// packets of the same source at the same instant may both take the last
// token. The counters are exact (atomic adds).
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <goko_helpers.h>

#define NS_PER_SEC 1000000000ULL

struct config {
	__u64 rate;  // tokens per second
	__u64 burst; // bucket size, in tokens
};

struct bucket {
	__u64 tokens;  // in 1e-9 tokens
	__u64 last_ns; // time of the last refill (bpf_ktime_get_ns)
	__u64 passed;  // packets that matched
	__u64 limited; // packets that did not
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct bucket);
} buckets SEC(".maps");

SEC("filter")
__u64 ratelimit(void *pkt, __u64 len)
{
	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return GOKO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);
	__u32 src = ip->saddr;

	__u64 rate = 10, burst = 10;
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && cfg->rate && cfg->burst) {
		rate = cfg->rate;
		burst = cfg->burst;
	}
	__u64 full = burst * NS_PER_SEC;
	__u64 now = bpf_ktime_get_ns();

	struct bucket *b = bpf_map_lookup_elem(&buckets, &src);
	if (!b) {
		// A new source starts with a full bucket and takes one token.
		struct bucket nb = {.tokens = full - NS_PER_SEC, .last_ns = now, .passed = 1};
		bpf_map_update_elem(&buckets, &src, &nb, BPF_ANY);
		return GOKO_MATCH;
	}

	// Refill. Past the time it takes to fill the bucket the product could
	// overflow, so cap the elapsed time first.
	__u64 elapsed = now - b->last_ns;
	if (now < b->last_ns)
		elapsed = 0;
	__u64 tokens = b->tokens;
	if (elapsed >= full / rate)
		tokens = full;
	else
		tokens += elapsed * rate;
	if (tokens > full)
		tokens = full;
	b->last_ns = now;

	if (tokens < NS_PER_SEC) {
		b->tokens = tokens;
		__sync_fetch_and_add(&b->limited, 1);
		return GOKO_NO_MATCH;
	}
	b->tokens = tokens - NS_PER_SEC;
	__sync_fetch_and_add(&b->passed, 1);
	return GOKO_MATCH;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
