// payload_scan100: counts 0x90 bytes (NOP sleds) in the first 100 bytes of
// a UDP payload; the branch inside the loop does not leave it. XDP.
// verdict: accept
// verdict-v2: accept
// kernel: accept. The loop bound is a constant (100) and each byte is
// checked against data_end; Linux prunes the two states each iteration
// leaves into one and finishes in about 4,000 instructions (issue 12
// measured 3,900 on 6.18). issue 12: goko keeps at most 64 states per
// instruction and rejects this as too complex.
#include "corpus.h"

SEC("xdp")
int payload_scan100(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *p = data + ETH_HLEN + 20 + 8;
	int n = 0;
	for (int i = 0; i < 100; i++) {
		if ((void *)(p + i + 1) > end)
			break;
		if (p[i] == 0x90)
			n++;
	}
	return n > 16 ? XDP_DROP : XDP_PASS;
}
