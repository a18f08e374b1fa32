// ipv6_ext: skips up to 6 IPv6 extension headers (hop-by-hop, routing,
// destination options, fragment) to find a TCP header; XDP with data_end.
// verdict: accept
// kernel: accept. Constant loop bound (6); every header is bounds checked
// against data_end before it is read, and the running offset is bounded
// (each step adds at most 8 + 255*8), well inside the packet pointer's
// allowed variable range.
#include "corpus.h"

SEC("xdp")
int ipv6_ext(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	struct ip6 *ip6 = data + ETH_HLEN;
	if ((void *)(ip6 + 1) > end || eth->proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	__u8 nh = ip6->nexthdr;
	__u32 off = ETH_HLEN + sizeof(*ip6);
	for (int i = 0; i < 6; i++) {
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
			break;
		off &= 0x3fff;
		__u8 *h = data + off;
		if ((void *)(h + 8) > end)
			return XDP_PASS;
		nh = h[0];
		off += nh == IPPROTO_FRAGMENT ? 8 : (h[1] + 1) * 8;
	}
	if (nh != IPPROTO_TCP)
		return XDP_PASS;
	off &= 0x3fff;
	struct tcp *tcp = data + off;
	if ((void *)(tcp + 1) > end)
		return XDP_PASS;
	return tcp->dport == bpf_htons(22) ? XDP_DROP : XDP_PASS;
}
