// p0f: a passive OS fingerprint of TCP SYNs, in the manner of p0f.
//
// For every TCP SYN (without ACK) the program reads what the sender's
// TCP/IP stack chose on its own: the initial TTL (rounded up to 32, 64,
// 128 or 255 from the TTL seen), the DF bit, the window size, the MSS and
// window-scale options and the order of the TCP options. It stores that
// fingerprint per source address in `fingerprints` and classifies it:
//
//   OS_LINUX    TTL 64,  options mss,sok,ts,nop,ws
//   OS_WINDOWS  TTL 128, options mss,nop,ws,nop,nop,sok
//   OS_MACOS    TTL 64,  options mss,nop,ws,nop,nop,ts,sok,eol
//   OS_UNKNOWN  anything else
//
// (the layout is the signature: each option kind is a 4-bit digit, most
// significant first, e.g. Linux = 0x24813, see layout below).
//
// The filter matches SYNs whose class is in the `match_os` bitmask (bit N
// for class N; all classes while the mask is 0), and never matches other
// packets. Use it to steer or count SYNs by OS while other flows forward
// the traffic:
//
//     priority=30,tcp,in_port=1,filter_prog=7 actions=output:2   # counts Linux SYNs
//     priority=10,in_port=1 actions=output:2
//
// Maps:
//   fingerprints  LRU hash: source -> struct fingerprint (the last SYN's)
//   per_os        array[4]: SYNs seen per class
//   match_os      array[1]: __u32 bitmask of classes to match (0 = all),
//                 e.g. Linux only: ofctl update-map br0 7 match_os 0 u32:2
//   scratch       per-thread array[1]: the fingerprint being built
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <goko_helpers.h>

enum os {
	OS_UNKNOWN = 0,
	OS_LINUX = 1,
	OS_WINDOWS = 2,
	OS_MACOS = 3,
	OS_MAX,
};

struct fingerprint {
	__u8 os;        // enum os
	__u8 ttl;       // initial TTL guessed: 32, 64, 128 or 255
	__u8 df;        // IP don't-fragment bit
	__u8 wscale;    // window scale option (0xff: none)
	__u16 window;   // TCP window, host byte order
	__u16 mss;      // MSS option, host byte order (0: none)
	__u8 n_opts;    // number of options
	__u8 pad[3];
	__u32 syn_len;  // IP total length of the SYN
	__u64 layout;   // option kinds, 4 bits each, first option most significant
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct fingerprint);
} fingerprints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} per_os SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} match_os SEC(".maps");

struct scratch {
	struct fingerprint fp;
	__u64 off; // the option parser's cursor
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

#define MAX_OPTS 16

static __always_inline __u8 initial_ttl(__u8 ttl)
{
	if (ttl <= 32)
		return 32;
	if (ttl <= 64)
		return 64;
	if (ttl <= 128)
		return 128;
	return 255;
}

SEC("filter")
__u64 p0f(void *pkt, __u64 len)
{
	if (len < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return GOKO_NO_MATCH;
	struct ethhdr *eth = pkt;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return GOKO_NO_MATCH;
	struct iphdr *ip = pkt + sizeof(*eth);
	if (ip->protocol != IPPROTO_TCP)
		return GOKO_NO_MATCH;
	__u64 l4 = sizeof(*eth) + (ip->ihl & 0xf) * 4;
	if (l4 + sizeof(struct tcphdr) > len)
		return GOKO_NO_MATCH;
	struct tcphdr *tcp = pkt + l4;
	if (!tcp->syn || tcp->ack)
		return GOKO_NO_MATCH;

	// The fingerprint is built in a per-thread scratch map value, read and
	// written through a volatile pointer (see the loop below for why).
	__u32 zero = 0;
	volatile struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return GOKO_NO_MATCH;
	volatile struct fingerprint *fp = &sc->fp;
	fp->os = OS_UNKNOWN;
	fp->ttl = initial_ttl(ip->ttl);
	fp->df = (ip->frag_off & bpf_htons(0x4000)) != 0;
	fp->wscale = 0xff;
	fp->window = bpf_ntohs(tcp->window);
	fp->mss = 0;
	fp->n_opts = 0;
	fp->syn_len = bpf_ntohs(ip->tot_len);
	fp->layout = 0;

	// Walk the options: kind 0 ends them, kind 1 is one byte, the others
	// are kind, length, data.
	//
	// Two things keep this loop verifiable. Every read is checked against
	// len itself (the verifier does not know that `end` <= len). And the
	// values the loop carries from one iteration to the next (the cursor,
	// the layout, the counts) live in the map value, not in registers: the
	// verifier knows nothing about what it reads there, so all iterations
	// look alike and it prunes them. With the cursor in a register, every
	// sequence of option lengths is a different state, and 16 iterations
	// exceed the verifier's budget of 1,000,000 instructions (try it).
	__u64 end = l4 + tcp->doff * 4;
	sc->off = l4 + sizeof(struct tcphdr);
	for (int i = 0; i < MAX_OPTS; i++) {
		__u64 off = sc->off;
		if (off > 128 || off + 1 > end || off + 1 > len)
			break;
		__u8 kind = *(__u8 *)(pkt + off);
		fp->layout = (fp->layout << 4) | (kind & 0xf);
		fp->n_opts++;
		if (kind == 0)
			break;
		if (kind == 1) {
			sc->off = off + 1;
			continue;
		}
		if (off + 2 > end || off + 2 > len)
			break;
		__u8 olen = *(__u8 *)(pkt + off + 1);
		if (olen < 2 || off + olen > end)
			break;
		if (kind == 2 && olen == 4 && off + 4 <= len)
			fp->mss = bpf_ntohs(*(__u16 *)(pkt + off + 2));
		else if (kind == 3 && olen == 3 && off + 3 <= len)
			fp->wscale = *(__u8 *)(pkt + off + 2);
		sc->off = off + olen;
	}

	__u8 ttl = fp->ttl;
	__u64 layout = fp->layout;
	if (ttl == 64 && layout == 0x24813)
		fp->os = OS_LINUX;
	else if (ttl == 128 && layout == 0x213114)
		fp->os = OS_WINDOWS;
	else if (ttl == 64 && layout == 0x21311840)
		fp->os = OS_MACOS;

	__u32 src = ip->saddr;
	bpf_map_update_elem(&fingerprints, &src, (struct fingerprint *)fp, BPF_ANY);
	__u32 cls = fp->os;
	__u64 *n = bpf_map_lookup_elem(&per_os, &cls);
	if (n)
		__sync_fetch_and_add(n, 1);

	__u32 *mask = bpf_map_lookup_elem(&match_os, &zero);
	if (!mask || *mask == 0 || (*mask & (1u << cls)))
		return GOKO_MATCH;
	return GOKO_NO_MATCH;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
