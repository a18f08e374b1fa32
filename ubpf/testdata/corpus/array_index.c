// array_index: a histogram of packet lengths in 64-byte buckets kept in
// an array of 24 counters inside one map value; the bucket index is
// checked before it is used.
// verdict: accept
// kernel: accept. "if (b >= 24) b = 23" bounds the index, so the access
// is within the 192-byte value.
#include "corpus.h"

struct hist {
	__u64 bucket[24];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} lens SEC(".maps");

SEC("filter")
__u64 array_index(void *pkt, __u64 len)
{
	__u32 zero = 0;
	struct hist *h = bpf_map_lookup_elem(&lens, &zero);
	if (!h)
		return GOKO_NO_MATCH;
	__u64 b = len / 64;
	if (b >= 24)
		b = 23;
	h->bucket[b]++;
	return GOKO_NO_MATCH;
}
