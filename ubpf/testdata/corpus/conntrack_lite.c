// conntrack_lite: tracks TCP flows by 5-tuple in a hash map: a SYN
// creates the entry, a FIN or RST deletes it, other packets match only
// if the flow is known.
// verdict: accept
// kernel: accept. The key struct has no padding holes and is written
// field by field; lookup results are null-checked.
#include "corpus.h"

struct flow {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u32 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow);
	__type(value, __u64);
} flows SEC(".maps");

SEC("filter")
__u64 conntrack_lite(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + 20 + sizeof(struct tcp))
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	struct tcp *tcp = pkt + ETH_HLEN + 20;
	if (ip->proto != IPPROTO_TCP)
		return GOKO_NO_MATCH;
	struct flow f = {ip->saddr, ip->daddr, tcp->sport, tcp->dport, IPPROTO_TCP};
	if (tcp->flags & (TCP_FIN | TCP_RST)) {
		bpf_map_delete_elem(&flows, &f);
		return GOKO_MATCH;
	}
	if (tcp->flags & TCP_SYN) {
		__u64 now = bpf_ktime_get_ns();
		bpf_map_update_elem(&flows, &f, &now, BPF_ANY);
		return GOKO_MATCH;
	}
	return bpf_map_lookup_elem(&flows, &f) != 0;
}
