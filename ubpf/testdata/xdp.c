// An XDP filter: passes IPv4 packets whose source is in an LPM trie
// (allowlist), counts per thread, reports drops to a ring buffer, and
// tracks heavy hitters in a goko count-min sketch and a bloom filter.
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../include/goko_helpers.h"

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, GOKO_MAP_TYPE_COUNT_MIN);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_extra, 4);
} sketch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 1000);
	__uint(value_size, 4);
} seen_src SEC(".maps");

struct event {
	__u32 saddr;
	__u32 len;
};

SEC("xdp")
int xdp_allow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_DROP;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	__u32 src = ip->saddr;
	goko_cms_add(&sketch, &src, 1);
	goko_bloom_add(&seen_src, &src);
	struct lpm_key key = {.prefixlen = 32, .addr = src};
	__u32 k = 0;
	if (bpf_map_lookup_elem(&allow, &key)) {
		__u64 *c = bpf_map_lookup_elem(&counters, &k);
		if (c)
			*c += 1;
		return XDP_PASS;
	}
	k = 1;
	__u64 *c = bpf_map_lookup_elem(&counters, &k);
	if (c)
		*c += 1;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->saddr = src;
		e->len = (__u32)(data_end - data);
		bpf_ringbuf_submit(e, 0);
	}
	return XDP_DROP;
}
