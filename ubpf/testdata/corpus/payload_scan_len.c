// payload_scan_len: a 100-byte payload scan in the len style, counting
// two signature bytes.
// verdict: accept
// kernel: accept (as payload_scan100.c).
#include "corpus.h"

SEC("filter")
__u64 payload_scan_len(void *pkt, __u64 len)
{
	__u64 base = ETH_HLEN + 20 + 20;
	int a = 0, b = 0;
	for (int i = 0; i < 100; i++) {
		if (base + i + 1 > len)
			break;
		__u8 c = *(__u8 *)(pkt + base + i);
		if (c == 0x90)
			a++;
		else if (c == 0xcc)
			b++;
	}
	return a + b > 8;
}
