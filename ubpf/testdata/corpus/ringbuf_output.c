// ringbuf_output: copies the first 32 bytes of every ICMP packet to a
// ring buffer with bpf_ringbuf_output from a stack buffer.
// verdict: accept
// kernel: accept. The 32-byte buffer is fully written before it is passed
// with a constant size.
#include "corpus.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} samples SEC(".maps");

SEC("filter")
__u64 ringbuf_output(void *pkt, __u64 len)
{
	if (len < 32)
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	if (ip->proto != IPPROTO_ICMP)
		return GOKO_NO_MATCH;
	__u64 buf[4];
	__builtin_memcpy(buf, pkt, 32);
	bpf_ringbuf_output(&samples, buf, sizeof(buf), 0);
	return GOKO_MATCH;
}
