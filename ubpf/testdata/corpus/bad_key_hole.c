// bad_key_hole: a hash key struct with a 3-byte padding hole, written
// field by field, so the hole is never initialised.
// verdict: reject uninitialised
// kernel: reject for unprivileged loaders ("invalid indirect read from
// stack"); with CAP_PERFMON, Linux (since 5.19) lets uninitialised stack
// reach helpers. goko rejects it whoever loads it: a key with stale stack
// bytes makes lookups depend on earlier runs (issue 18 item 3).
#include "corpus.h"

struct key {
	__u8 proto;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct key);
	__type(value, __u64);
} m SEC(".maps");

SEC("filter")
__u64 bad_key_hole(void *pkt, __u64 len)
{
	if (len < 34)
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	struct key k;
	k.proto = ip->proto;
	k.addr = ip->saddr;
	return bpf_map_lookup_elem(&m, &k) != 0;
}
