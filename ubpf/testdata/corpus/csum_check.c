// csum_check: verifies the IPv4 header checksum of 20-byte headers with
// bpf_csum_diff over the packet; XDP.
// verdict: accept
// kernel: accept. bpf_csum_diff takes a packet pointer with a constant
// size (20) proven by the data_end check; XDP programs may call it.
#include "corpus.h"

SEC("xdp")
int csum_check(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || ip->vihl != 0x45)
		return XDP_PASS;
	__s64 s = bpf_csum_diff(0, 0, (__be32 *)ip, 20, 0);
	if (s < 0)
		return XDP_PASS;
	__u32 sum = (__u32)s;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff ? XDP_PASS : XDP_DROP;
}
