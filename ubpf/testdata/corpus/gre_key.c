// gre_key: reads the key of a GRE header whose optional checksum field
// may come first; XDP.
// verdict: accept
// kernel: accept. The key's offset is one of two constants (4 or 8 past
// the GRE header), checked against data_end.
#include "corpus.h"

SEC("xdp")
int gre_key(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	__u8 *gre = data + ETH_HLEN + 20;
	if ((void *)(gre + 4) > end || ip->proto != IPPROTO_GRE)
		return XDP_PASS;
	__u16 flags = gre[0] << 8 | gre[1];
	if (!(flags & 0x2000)) /* no key */
		return XDP_PASS;
	__u32 off = 4;
	if (flags & 0x8000) /* checksum present */
		off += 4;
	__u32 *key = (__u32 *)(gre + off);
	if ((void *)(key + 1) > end)
		return XDP_PASS;
	return bpf_ntohl(*key) == 42 ? XDP_DROP : XDP_PASS;
}
