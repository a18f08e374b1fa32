// Reads past the end of the packet without a length check: the verifier
// must reject it.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

SEC("filter")
__u64 bad(void *pkt, __u64 len)
{
	return ((__u8 *)pkt)[100];
}
