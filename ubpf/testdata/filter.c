// An Oko filter: matches UDP packets to port 53 and counts per source
// address. Exercises BTF maps, globals (.rodata/.data/.bss), a bounded
// loop, a bpf-to-bpf call and length checks against the len argument.
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../include/goko_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} per_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

const volatile __u16 dns_port = 53;   /* .rodata */
__u64 threshold = 1000;               /* .data */
__u64 seen;                           /* .bss */

static __attribute__((noinline)) __u64 checksum8(const __u8 *p)
{
	__u64 s = 0;
	for (int i = 0; i < 8; i++)
		s += p[i];
	return s;
}

SEC("filter")
__u64 dns_filter(void *pkt, __u64 len)
{
	__u32 k = 0;
	__u64 *total = bpf_map_lookup_elem(&stats, &k);
	if (total)
		__sync_fetch_and_add(total, 1);
	__sync_fetch_and_add(&seen, 1);

	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
		return GOKO_NO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_NO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);
	if (ip->protocol != IPPROTO_UDP)
		return GOKO_NO_MATCH;
	__u64 off = sizeof(*eth) + (ip->ihl & 0xf) * 4;
	if (off + sizeof(struct udphdr) > len)
		return GOKO_NO_MATCH;
	struct udphdr *udp = pkt + off;
	if (udp->dest != bpf_htons(dns_port))
		return GOKO_NO_MATCH;

	__u32 src = ip->saddr;
	__u64 one = 1, *cnt = bpf_map_lookup_elem(&per_src, &src);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&per_src, &src, &one, BPF_ANY);

	if (off + sizeof(struct udphdr) + 8 <= len) {
		__u32 k2 = 1;
		__u64 *sum = bpf_map_lookup_elem(&stats, &k2);
		if (sum)
			*sum += checksum8((const __u8 *)pkt + off + sizeof(struct udphdr));
	}
	if (cnt && *cnt > threshold)
		return GOKO_NO_MATCH;
	return GOKO_MATCH;
}
