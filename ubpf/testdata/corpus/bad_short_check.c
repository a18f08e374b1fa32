// bad_short_check: checks 34 bytes, then reads the UDP port at 36.
// verdict: reject invalid access to packet
// kernel: reject ("invalid access to packet, off=36 size=2, R?(r=34)").
#include "corpus.h"

SEC("xdp")
int bad_short_check(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 34 > end)
		return XDP_PASS;
	struct udp *udp = data + 34;
	return udp->dport == bpf_htons(53) ? XDP_DROP : XDP_PASS;
}
