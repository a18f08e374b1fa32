// payload_scan60: payload_scan100 over 60 bytes.
// verdict: accept
// kernel: accept (as payload_scan100). Fewer iterations than goko's 64
// states per instruction, so goko accepts it too.
#include "corpus.h"

SEC("xdp")
int payload_scan60(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *p = data + ETH_HLEN + 20 + 8;
	int n = 0;
	for (int i = 0; i < 60; i++) {
		if ((void *)(p + i + 1) > end)
			break;
		if (p[i] == 0x90)
			n++;
	}
	return n > 16 ? XDP_DROP : XDP_PASS;
}
