// udp_flood_bounded_loop: sums the UDP payload bytes up to a length read
// from the packet, clamped to 48: a loop bound from data.
// verdict: accept
// kernel: accept. The loop condition compares the counter with n, which
// is a packet byte clamped to [0, 48]; the verifier follows at most 48
// iterations with the exact counter, checking each read against the
// length.
#include "corpus.h"

#define P (ETH_HLEN + 20 + 8)

SEC("filter")
__u64 udp_flood_bounded_loop(void *pkt, __u64 len)
{
	if (len < P + 1)
		return GOKO_NO_MATCH;
	__u32 n = *(__u8 *)(pkt + P);
	if (n > 48)
		n = 48;
	__u32 sum = 0;
	for (__u32 i = 0; i < n; i++) {
		if (P + 1 + i + 1 > len)
			break;
		sum += *(__u8 *)(pkt + P + 1 + i);
	}
	return sum > 1000;
}
