// dns_qname_end: walks the QNAME of a DNS query (at most 32 bytes) and
// matches names with more than 4 labels; XDP, checks against data_end.
// verdict: accept
// kernel: accept. The byte index i has a constant bound (32); each byte is
// checked with "p + i + 1 > end" before it is read. issue 12 reports goko
// accepts this style.
#include "corpus.h"

#define DNS_OFF (ETH_HLEN + 20 + 8 + 12)

SEC("xdp")
int dns_qname_end(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + DNS_OFF > end)
		return XDP_PASS;
	struct ip4 *ip = data + ETH_HLEN;
	struct udp *udp = data + ETH_HLEN + 20;
	if (ip->proto != IPPROTO_UDP || udp->dport != bpf_htons(53))
		return XDP_PASS;
	__u8 *q = data + DNS_OFF;
	int labels = 0, next = 0;
	for (int i = 0; i < 32; i++) {
		if ((void *)(q + i + 1) > end)
			break;
		if (i == next) {
			__u8 l = q[i];
			if (l == 0)
				break;
			labels++;
			next = i + l + 1;
		}
	}
	return labels > 4 ? XDP_DROP : XDP_PASS;
}
