// bad_null: increments a counter from a map lookup without checking the
// lookup succeeded.
// verdict: reject map_value_or_null
// kernel: reject ("R0 invalid mem access 'map_value_or_null'").
#include "corpus.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} m SEC(".maps");

SEC("filter")
__u64 bad_null(void *pkt, __u64 len)
{
	__u32 k = len;
	__u64 *v = bpf_map_lookup_elem(&m, &k);
	asm volatile("" : "+r"(v)); /* keep clang from assuming v != NULL */
	(*v)++;
	return GOKO_NO_MATCH;
}
