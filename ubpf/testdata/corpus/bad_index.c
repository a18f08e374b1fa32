// bad_index: indexes an array inside a map value with a packet byte
// without checking it.
// verdict: reject invalid access to map value
// kernel: reject ("invalid access to map_value, value_size=64 off=...":
// the index is [0, 255] * 8).
#include "corpus.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[8]);
} m SEC(".maps");

SEC("filter")
__u64 bad_index(void *pkt, __u64 len)
{
	if (len < 34)
		return GOKO_NO_MATCH;
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&m, &zero);
	if (!v)
		return GOKO_NO_MATCH;
	__u8 i = *(__u8 *)(pkt + 33);
	v[i]++;
	return GOKO_NO_MATCH;
}
