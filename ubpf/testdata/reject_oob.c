// A filter the verifier must refuse: it checks 14 bytes of the packet and
// reads the 16th (docs/writing-filters.md shows this mistake).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("filter")
int oob(unsigned char *pkt, __u64 len)
{
	if (len < 14)
		return 0;
	return pkt[15] == 0x45;
}
