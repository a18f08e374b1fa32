// copy_bound_helper: a noinline helper that finds ": " in an HTTP header
// line; the bound is checked on i + 2 and the bytes at i and i + 1 are
// read; XDP.
// verdict: accept
// kernel: accept. Linux gives copies of one scalar a shared id and keeps
// their constant difference, so "p + i + 2 <= end" proves the two bytes at
// p + i (issue 12's "r1 = r9 + 2; r9 += 1; if r6 >= r1" pattern, which
// goko does not link).
#include "corpus.h"

static __attribute__((noinline)) int find_colon(__u8 *p, __u8 *end)
{
	for (__u32 i = 0; i < 64; i++) {
		if ((void *)(p + i + 2) > (void *)end)
			return -1;
		if (p[i] == ':' && p[i + 1] == ' ')
			return i;
	}
	return -1;
}

SEC("xdp")
int copy_bound_helper(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 54 > end)
		return XDP_PASS;
	return find_colon(data + 54, end) == 4 ? XDP_DROP : XDP_PASS;
}
