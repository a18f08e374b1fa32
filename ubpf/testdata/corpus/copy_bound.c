// copy_bound: a noinline parser of type-length-value records that checks
// the bound on a copy of the index plus a constant and then reads at the
// index; XDP.
// verdict: accept
// kernel: accept. Linux links scalars that share an origin (ids with
// offsets), so the check on i + 2 proves the two bytes read at i and
// i + 1. issue 12: goko does not link copies that differ by a constant
// ("invalid access to packet ... proven range").
#include "corpus.h"

static __attribute__((noinline)) int tlv_sum(__u8 *p, __u8 *end)
{
	int sum = 0;
	__u32 i = 0;
	for (int k = 0; k < 16; k++) {
		if ((void *)(p + i + 2) > (void *)end)
			break;
		__u8 t = p[i], l = p[i + 1];
		sum += t;
		i += 2 + (l & 7);
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
