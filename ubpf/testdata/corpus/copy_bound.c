// copy_bound: a noinline parser of type-length-value records (at most 16)
// in a subprogram that receives the packet pointer and data_end; XDP.
// verdict: accept
// kernel: accept. The record pointer r = p + i (i bounded: 16 steps of at
// most 9) is checked against end and both bytes are read through r; the
// subprogram's packet arguments are verified in the caller's context.
#include "corpus.h"

static __attribute__((noinline)) int tlv_sum(__u8 *p, __u8 *end)
{
	int sum = 0;
	__u64 i = 0;
	for (int k = 0; k < 16; k++) {
		__u8 *r = p + i;
		if ((void *)(r + 2) > (void *)end)
			break;
		sum += r[0];
		i += 2 + (r[1] & 7);
	}
	return sum;
}

SEC("xdp")
int copy_bound(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 34 > end)
		return XDP_PASS;
	return tlv_sum(data + 34, end) > 1000 ? XDP_DROP : XDP_PASS;
}
