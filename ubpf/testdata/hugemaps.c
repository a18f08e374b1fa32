// Map declarations whose sizes pass every single-field check but multiply
// to more memory than the switch has (issue 18): each must be refused at
// load with a clear error, never allocated.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct big { char b[1 << 20]; };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1 << 24);
	__type(key, __u32);
	__type(value, struct big);
} percpu_huge SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 24);
	__type(key, __u32);
	__type(value, struct big);
} hash_huge SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 600);
	__type(key, __u32);
	__type(value, struct big);
} arr_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 600);
	__type(key, __u32);
	__type(value, struct big);
} arr_b SEC(".maps");

SEC("filter/percpu")
int percpu(void *pkt, __u64 len)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&percpu_huge, &k) != 0;
}

SEC("filter/hash")
int hash(void *pkt, __u64 len)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&hash_huge, &k) != 0;
}

// Two maps of 600 MiB: each fits alone, together they exceed the default
// per-load limit of 1 GiB.
SEC("filter/two")
int two(void *pkt, __u64 len)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&arr_a, &k) != 0 && bpf_map_lookup_elem(&arr_b, &k) != 0;
}
