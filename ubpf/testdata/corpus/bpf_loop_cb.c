// bpf_loop_cb: counts zero bytes of the first 64 payload bytes with the
// bpf_loop helper and a callback; XDP.
// verdict: accept
// kernel: accept (Linux 5.17 and later). bpf_loop's callback is verified
// once as a function of (index, ctx) with index a bounded scalar; the
// callback bounds its packet access with a masked index and data_end.
// issue 12: goko rejects the callback's address (lddw src 4).
#include "corpus.h"

struct scan {
	void *data, *end;
	__u32 zeros;
};

static int count_zero(__u32 i, void *arg)
{
	struct scan *s = arg;
	__u8 *p = s->data;
	__u32 off = i & 63;
	if ((void *)(p + off + 1) > s->end)
		return 1; /* stop */
	if (p[off] == 0)
		s->zeros++;
	return 0;
}

SEC("xdp")
int bpf_loop_cb(struct xdp_md *ctx)
{
	struct scan s = {(void *)(long)ctx->data, (void *)(long)ctx->data_end, 0};
	bpf_loop(64, count_zero, &s, 0);
	return s.zeros > 32 ? XDP_DROP : XDP_PASS;
}
