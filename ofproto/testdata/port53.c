// Matches UDP packets to port PORT and counts the packets it saw in an
// array map, so a test can check that maps survive a reload.
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef PORT
#define PORT 53
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("filter")
__u64 port_filter(void *pkt, __u64 len)
{
	__u8 *p = pkt;
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&seen, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	if (len < 38 || p[12] != 0x08 || p[13] != 0x00 || p[23] != 17)
		return 0;
	return ((__u16)p[36] << 8 | p[37]) == PORT;
}
