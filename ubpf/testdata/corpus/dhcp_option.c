// dhcp_option: finds the DHCP message type option (53) within the first
// 64 option bytes of a DHCP packet; XDP.
// verdict: accept
// kernel: accept. Constant loop bound (16 options); the option offset is
// masked to 63 and each option's three bytes are checked against
// data_end, through the pointer they are then read with.
#include "corpus.h"

#define OPTS (ETH_HLEN + 20 + 8 + 240)

SEC("xdp")
int dhcp_option(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	struct udp *udp = data + ETH_HLEN + 20;
	if ((void *)(udp + 1) > end || ip->proto != IPPROTO_UDP || udp->dport != bpf_htons(67))
		return XDP_PASS;
	__u8 *opts = data + OPTS;
	__u64 off = 0;
	for (int i = 0; i < 16; i++) {
		off &= 63;
		__u8 *o = opts + off;
		if ((void *)(o + 3) > end)
			break;
		if (o[0] == 255)
			break;
		if (o[0] == 0) {
			off++;
			continue;
		}
		if (o[0] == 53)
			return o[2] == 1 ? XDP_DROP : XDP_PASS; /* DISCOVER */
		off += 2 + o[1];
	}
	return XDP_PASS;
}
