// conntrack: a stateful firewall that tracks TCP connections.
//
// Hosts inside (source addresses in the `inside` LPM trie) may open TCP
// connections to the outside; from the outside only the packets of those
// connections come back in. The program follows each connection through
// the handshake:
//
//   inside  -> outside  SYN          new entry, state SYN_SENT
//   outside -> inside   SYN+ACK      SYN_SENT -> SYN_RECV
//   inside  -> outside  ACK          SYN_RECV -> ESTABLISHED
//   either way          RST          entry deleted
//   either way          FIN          ESTABLISHED -> CLOSING (still allowed)
//
// and matches (lets through):
//   - every TCP packet from the inside that opens or belongs to a tracked
//     connection (an inside SYN always opens one);
//   - a TCP packet from the outside only if it belongs to a tracked
//     connection: a SYN+ACK to a SYN_SENT entry, anything once the
//     handshake got a SYN+ACK. An outside SYN (a connection *to* the
//     inside) never matches.
// Non-TCP IPv4 packets and non-IPv4 packets match (use flows to restrict
// them). So with port 1 inside and port 2 outside:
//
//     priority=20,tcp,in_port=1,filter_prog=3 actions=output:2
//     priority=20,tcp,in_port=2,filter_prog=3 actions=output:1
//     priority=10,tcp actions=drop
//
// Maps:
//   inside   LPM trie of the inside prefixes (struct lpm_v4 -> __u32, any
//            value); empty at load: add the inside prefixes with
//            ofctl update-map br0 3 inside lpm:10.0.0.0/24 1
//   conns    LRU hash: struct conn_key (the inside end first) -> struct conn.
//   stats    array of counters, see enum stat.
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <goko_helpers.h>

enum state {
	SYN_SENT = 1,
	SYN_RECV = 2,
	ESTABLISHED = 3,
	CLOSING = 4,
};

enum stat {
	STAT_OUT_ALLOWED, // inside -> outside, matched
	STAT_OUT_UNTRACKED, // inside -> outside, not a SYN and no entry: no match
	STAT_IN_ALLOWED,  // outside -> inside, matched
	STAT_IN_BLOCKED,  // outside -> inside, no match
	STAT_MAX,
};

struct lpm_v4 {
	__u32 prefixlen; // host byte order (struct bpf_lpm_trie_key)
	__u32 addr;      // network byte order
};

// conn_key names a connection from the inside host's point of view; all
// fields in network byte order.
struct conn_key {
	__u32 inside_addr;
	__u32 outside_addr;
	__u16 inside_port;
	__u16 outside_port;
};

struct conn {
	__u32 state;  // enum state
	__u32 pad;
	__u64 last_ns;
	__u64 packets_out; // inside -> outside
	__u64 packets_in;  // outside -> inside
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__type(key, struct lpm_v4);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} inside SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct conn_key);
	__type(value, struct conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &which);
	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline int is_inside(__u32 addr)
{
	struct lpm_v4 k = {.prefixlen = 32, .addr = addr};
	return bpf_map_lookup_elem(&inside, &k) != 0;
}

SEC("filter")
__u64 conntrack(void *pkt, __u64 len)
{
	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return GOKO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);
	if (ip->protocol != IPPROTO_TCP)
		return GOKO_MATCH;
	__u64 l4 = sizeof(*eth) + (ip->ihl & 0xf) * 4;
	if (l4 + sizeof(struct tcphdr) > len)
		return GOKO_NO_MATCH; // truncated TCP: never let it in
	struct tcphdr *tcp = pkt + l4;

	__u64 now = bpf_ktime_get_ns();
	struct conn_key key;
	int outbound = is_inside(ip->saddr);
	if (outbound) {
		key.inside_addr = ip->saddr;
		key.outside_addr = ip->daddr;
		key.inside_port = tcp->source;
		key.outside_port = tcp->dest;
	} else {
		key.inside_addr = ip->daddr;
		key.outside_addr = ip->saddr;
		key.inside_port = tcp->dest;
		key.outside_port = tcp->source;
	}
	struct conn *c = bpf_map_lookup_elem(&conns, &key);

	if (tcp->rst) {
		// A reset ends the connection; it is allowed only if the
		// connection was known (or comes from the inside).
		if (c)
			bpf_map_delete_elem(&conns, &key);
		if (outbound || c) {
			count(outbound ? STAT_OUT_ALLOWED : STAT_IN_ALLOWED);
			return GOKO_MATCH;
		}
		count(STAT_IN_BLOCKED);
		return GOKO_NO_MATCH;
	}

	if (outbound) {
		if (tcp->syn && !tcp->ack) {
			struct conn n = {.state = SYN_SENT, .last_ns = now, .packets_out = 1};
			bpf_map_update_elem(&conns, &key, &n, BPF_ANY);
			count(STAT_OUT_ALLOWED);
			return GOKO_MATCH;
		}
		if (!c) {
			count(STAT_OUT_UNTRACKED);
			return GOKO_NO_MATCH;
		}
		if (c->state == SYN_RECV && tcp->ack)
			c->state = ESTABLISHED;
		if (tcp->fin && c->state == ESTABLISHED)
			c->state = CLOSING;
		c->last_ns = now;
		__sync_fetch_and_add(&c->packets_out, 1);
		count(STAT_OUT_ALLOWED);
		return GOKO_MATCH;
	}

	// From the outside: only replies to tracked connections.
	if (!c || (tcp->syn && !tcp->ack)) {
		count(STAT_IN_BLOCKED);
		return GOKO_NO_MATCH;
	}
	if (c->state == SYN_SENT) {
		if (!(tcp->syn && tcp->ack)) {
			count(STAT_IN_BLOCKED);
			return GOKO_NO_MATCH;
		}
		c->state = SYN_RECV;
	}
	if (tcp->fin && c->state == ESTABLISHED)
		c->state = CLOSING;
	c->last_ns = now;
	__sync_fetch_and_add(&c->packets_in, 1);
	count(STAT_IN_ALLOWED);
	return GOKO_MATCH;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
