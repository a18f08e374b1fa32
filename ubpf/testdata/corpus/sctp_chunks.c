// sctp_chunks: walks up to 8 SCTP chunks looking for an ABORT (6); XDP.
// verdict: accept
// kernel: accept. Constant loop bound; the chunk offset is masked to
// stay below 2048 and each 4-byte chunk header is checked against
// data_end.
#include "corpus.h"

SEC("xdp")
int sctp_chunks(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || ip->proto != IPPROTO_SCTP || ip->vihl != 0x45)
		return XDP_PASS;
	__u8 *sctp = data + ETH_HLEN + 20;
	__u32 off = 12; /* common header */
	for (int i = 0; i < 8; i++) {
		off &= 2047;
		__u8 *c = sctp + off;
		if ((void *)(c + 4) > end)
			break;
		if (c[0] == 6)
			return XDP_DROP;
		__u16 l = c[2] << 8 | c[3];
		if (l < 4)
			break;
		off += (l + 3) & ~3;
	}
	return XDP_PASS;
}
