// bad_no_check: reads the IP protocol without checking the packet is
// long enough.
// verdict: reject invalid access to packet
// kernel: reject ("invalid access to packet, off=23 size=1, R1(id=0,off=0,
// r=0)": no comparison with data_end proved any byte).
#include "corpus.h"

SEC("xdp")
int bad_no_check(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct ip4 *ip = data + ETH_HLEN;
	return ip->proto == IPPROTO_TCP ? XDP_DROP : XDP_PASS;
}
