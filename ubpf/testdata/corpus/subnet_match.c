// subnet_match: matches sources in 10.0.0.0/8 or 192.168.0.0/16 and
// destinations outside them, with 32-bit arithmetic on the addresses.
// Built as v3 (32-bit ALU and JMP32), v2 and v1.
// verdict: accept
// verdict-v2: accept
// verdict-v1: accept
// kernel: accept in every build: the arithmetic is on numbers only; the
// packet reads are at constant offsets after one length check.
#include "corpus.h"

static __always_inline int private(__u32 a)
{
	return (a & 0xff000000) == 0x0a000000 || (a & 0xffff0000) == 0xc0a80000;
}

SEC("filter")
__u64 subnet_match(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + 20)
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	__u32 s = bpf_ntohl(ip->saddr), d = bpf_ntohl(ip->daddr);
	return private(s) && !private(d);
}
