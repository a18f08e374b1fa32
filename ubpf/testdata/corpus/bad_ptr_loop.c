// bad_ptr_loop: sums bytes until data_end with a pointer loop that has no
// bound other than the packet's end.
// verdict: reject too complex
// kernel: reject. Every iteration leaves a state with a new constant
// pointer offset, none prunes another, and the walk passes the limit of
// 1,000,000 processed instructions ("BPF program is too large").
#include "corpus.h"

SEC("xdp")
int bad_ptr_loop(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 sum = 0;
	while (p + 1 <= end) {
		sum += *p;
		p++;
	}
	return sum & 1 ? XDP_DROP : XDP_PASS;
}
