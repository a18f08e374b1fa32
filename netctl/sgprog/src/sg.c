// sg: a NIC's security groups as one filter program whose rules are maps.
//
// netctl loads one instance of this program per NIC (each with its own
// maps) and matches it with filter_prog in two flows: table 10 for what
// the NIC sends (egress) and table 20 for what it receives (ingress). The
// program matches (returns 1) when a rule allows the packet. The
// connection table handles replies in flows of their own, so the program
// judges only packets that open or continue a connection in the allowed
// direction.
//
// Two lookups, no loop (the design of Cilium's policy maps):
//
//   1. remote4 / remote6, LPM tries keyed {prefixlen, dir, address}, give
//      the packet's remote address (the source of ingress packets, the
//      destination of egress ones) a class: the number of the set of rule
//      shapes that apply to it. The longest prefix wins, so netctl gives
//      each prefix the class of its own rules together with those of every
//      shorter prefix that covers it.
//   2. shapes, an LPM trie keyed {prefixlen, class, protocol, l4}, where l4
//      is the destination port (tcp, udp) or type << 8 | code (icmp,
//      icmpv6), holds the class's rule shapes as prefixes: "any protocol"
//      covers the class (32 bits), a protocol 40 bits, an ICMP type 48, a
//      type and code 56, and a port range the few power-of-two blocks that
//      tile it (1000-2000 is 8 entries). Every entry is an allow, so the
//      packet is allowed exactly when some entry covers its key, which is
//      when the lookup finds anything.
//
// The nic array holds the NIC's MAC: eth_src equal to it means egress,
// eth_dst ingress, anything else matches nothing.
//
// A rule change is a map update: a remote address is one entry, a port
// range a handful, and nothing is recompiled, reloaded or flushed. The
// verifier sees straight-line code (a few hundred instructions processed).
//
// Parsing: untagged Ethernet (admission drops tagged frames), IPv4 with
// options, IPv6 with its fixed header only (an extension header is taken
// as the protocol, so only ip-proto all rules admit such packets). A
// truncated tcp, udp or ICMP header matches nothing. A later IPv4 fragment
// has no transport header: its l4 reads 0, which no port range holds
// (ports start at 1); an ICMP type-0 (echo reply) rule admits the later
// fragments of ICMP packets, which may be echo replies.
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <goko_helpers.h>

#define DIR_INGRESS 0
#define DIR_EGRESS 1

struct nic {
	__u8 mac[6];
	__u8 pad[2];
};

struct remote4_key {
	__u32 prefixlen; // 8 (dir) + the address prefix length
	__u8 dir;
	__u8 addr[4];
} __attribute__((packed));

struct remote6_key {
	__u32 prefixlen;
	__u8 dir;
	__u8 addr[16];
} __attribute__((packed));

struct shape_key {
	__u32 prefixlen; // 32 (class) + what the shape fixes
	__u8 class[4];   // big-endian, so that it is the leading bits
	__u8 proto;
	__u8 l4[2]; // big-endian port, or ICMP type and code
} __attribute__((packed));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nic);
} nic SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct remote4_key);
	__type(value, __u32); // class
} remote4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct remote6_key);
	__type(value, __u32); // class
} remote6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct shape_key);
	__type(value, __u8); // unused
} shapes SEC(".maps");

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

SEC("filter")
__u64 sg(void *pkt, __u64 len)
{
	__u32 zero = 0;
	struct nic *self = bpf_map_lookup_elem(&nic, &zero);
	if (!self || len < 14)
		return GOKO_NO_MATCH;
	__u8 *p = pkt;
	__u8 dir;
	if (mac_eq(p + 6, self->mac))
		dir = DIR_EGRESS;
	else if (mac_eq(p, self->mac))
		dir = DIR_INGRESS;
	else
		return GOKO_NO_MATCH;
	__u16 ethertype = (__u16)p[12] << 8 | p[13];

	__u32 *class;
	__u8 proto;
	__u64 l4;
	int later_fragment = 0;
	if (ethertype == 0x0800) {
		if (len < 14 + 20)
			return GOKO_NO_MATCH;
		struct remote4_key k = {.prefixlen = 8 + 32, .dir = dir};
		__builtin_memcpy(k.addr, p + (dir == DIR_EGRESS ? 30 : 26), 4);
		class = bpf_map_lookup_elem(&remote4, &k);
		proto = p[23];
		l4 = 14 + (p[14] & 0xf) * 4;
		later_fragment = (((__u16)p[20] << 8 | p[21]) & 0x1fff) != 0;
	} else if (ethertype == 0x86dd) {
		if (len < 14 + 40)
			return GOKO_NO_MATCH;
		struct remote6_key k = {.prefixlen = 8 + 128, .dir = dir};
		__builtin_memcpy(k.addr, p + (dir == DIR_EGRESS ? 38 : 22), 16);
		class = bpf_map_lookup_elem(&remote6, &k);
		proto = p[20];
		l4 = 14 + 40;
	} else {
		return GOKO_NO_MATCH;
	}
	if (!class)
		return GOKO_NO_MATCH;

	struct shape_key s = {.prefixlen = 32 + 8 + 16, .proto = proto};
	__u32 c = *class;
	s.class[0] = c >> 24;
	s.class[1] = c >> 16;
	s.class[2] = c >> 8;
	s.class[3] = c;
	if (!later_fragment && (proto == 6 || proto == 17 || proto == 1 || proto == 58)) {
		if (l4 + 4 > len)
			return GOKO_NO_MATCH;
		if (proto == 6 || proto == 17) {
			s.l4[0] = p[l4 + 2]; // destination port
			s.l4[1] = p[l4 + 3];
		} else {
			s.l4[0] = p[l4]; // type, code
			s.l4[1] = p[l4 + 1];
		}
	}
	return bpf_map_lookup_elem(&shapes, &s) ? GOKO_MATCH : GOKO_NO_MATCH;
}

char _license[] SEC("license") = "GPL";
