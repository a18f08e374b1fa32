// bad_wrong_end: proves 20 bytes after one pointer and reads through
// another that is 16 bytes further on.
// verdict: reject invalid access to packet
// kernel: reject ("invalid access to packet, off=16 size=8, r=4").
#include "corpus.h"

SEC("xdp")
int bad_wrong_end(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *a = data + ETH_HLEN, *b = data + ETH_HLEN + 16;
	if ((void *)(a + 20) > end)
		return XDP_PASS;
	return *(__u64 *)b == 0 ? XDP_DROP : XDP_PASS;
}
