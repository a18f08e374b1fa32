// portknock: a port-knocking gate.
//
// A source address may pass only after it "knocked": sent UDP datagrams to
// three secret ports in the right order, each within `step_secs` of the
// previous one. The gate then stays open for that source for `open_secs`.
// A knock to the wrong port starts the sequence over. Knock datagrams are
// swallowed (no match) so that no one downstream sees them.
//
// The filter matches what it lets through. When `protected_port` is 0 the
// gate guards all IPv4 traffic of the source; otherwise only TCP and UDP to
// that port (other traffic always matches). Non-IPv4 packets match. With
// port 1 outside:
//
//     priority=20,ip,in_port=1,filter_prog=8 actions=output:2
//     priority=10,ip,in_port=1 actions=drop
//
// Maps:
//   config  array[1] of struct config; all zero at load means knocks on
//           UDP 7000, 8000, 9000, 5 s between knocks, open for 30 s, every
//           port protected. Knocks 1111 2222 3333 guarding tcp/22, 5 s
//           between knocks, open for 60 s:
//           ofctl update-map br0 8 config 0 u16:1111,u16:2222,u16:3333,u16:22,u32:5,u32:60
//   gate    LRU hash: source -> struct knock_state
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <goko_helpers.h>

#define NS_PER_SEC 1000000000ULL
#define KNOCKS 3

struct config {
	__u16 knock[KNOCKS];   // host byte order; knock[0] == 0: defaults
	__u16 protected_port;  // host byte order; 0: everything
	__u32 step_secs;
	__u32 open_secs;
};

struct knock_state {
	__u32 stage;     // knocks done in order (KNOCKS: open)
	__u32 pad;
	__u64 deadline;  // ns: next knock due before, or gate open until
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct knock_state);
} gate SEC(".maps");

SEC("filter")
__u64 portknock(void *pkt, __u64 len)
{
	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return GOKO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);

	struct config c = {.knock = {7000, 8000, 9000}, .step_secs = 5, .open_secs = 30};
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && cfg->knock[0])
		c = *cfg;

	// Destination port of TCP and UDP (0 for other protocols).
	__u16 dport = 0;
	__u64 l4 = sizeof(*eth) + (ip->ihl & 0xf) * 4;
	if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) && l4 + 4 <= len)
		dport = bpf_ntohs(*(__u16 *)(pkt + l4 + 2));

	__u32 src = ip->saddr;
	__u64 now = bpf_ktime_get_ns();
	struct knock_state *st = bpf_map_lookup_elem(&gate, &src);
	int open = st && st->stage == KNOCKS && now < st->deadline;

	if (ip->protocol == IPPROTO_UDP && !open &&
	    (dport == c.knock[0] || dport == c.knock[1] || dport == c.knock[2])) {
		struct knock_state ns = {.stage = 0, .deadline = now + c.step_secs * NS_PER_SEC};
		__u32 stage = 0;
		if (st && st->stage < KNOCKS && now < st->deadline)
			stage = st->stage;
		if (stage < KNOCKS && dport == c.knock[stage]) {
			ns.stage = stage + 1;
		} else if (dport == c.knock[0]) {
			ns.stage = 1; // a wrong knock that is also the first one
		}
		if (ns.stage == KNOCKS)
			ns.deadline = now + c.open_secs * NS_PER_SEC;
		bpf_map_update_elem(&gate, &src, &ns, BPF_ANY);
		return GOKO_NO_MATCH;
	}

	if (c.protected_port && dport != c.protected_port)
		return GOKO_MATCH;
	return open ? GOKO_MATCH : GOKO_NO_MATCH;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
