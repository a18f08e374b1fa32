// http_get: matches TCP payloads starting with "GET " after a variable
// IP header (ihl) and TCP header (doff); XDP.
// verdict: accept
// kernel: accept. Both header lengths are masked nibbles times four, so
// the payload offset is bounded ([0, 14+60+60]); four bytes there are
// checked against data_end before the compare.
#include "corpus.h"

SEC("xdp")
int http_get(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || ip->proto != IPPROTO_TCP)
		return XDP_PASS;
	__u32 ihl = (ip->vihl & 0xf) * 4;
	struct tcp *tcp = data + ETH_HLEN + ihl;
	if ((void *)(tcp + 1) > end)
		return XDP_PASS;
	__u32 doff = (tcp->doff >> 4) * 4;
	__u8 *p = data + ETH_HLEN + ihl + doff;
	if ((void *)(p + 4) > end)
		return XDP_PASS;
	return p[0] == 'G' && p[1] == 'E' && p[2] == 'T' && p[3] == ' ' ? XDP_DROP : XDP_PASS;
}
