// ringbuf_events: reports TCP RSTs to a ring buffer: reserve, fill,
// submit, or discard when the record is not wanted.
// verdict: accept
// kernel: accept. Every path releases the reservation (submit or
// discard); writes stay inside the 16-byte record.
#include "corpus.h"

struct event {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int ringbuf_events(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	struct tcp *tcp = data + ETH_HLEN + 20;
	if ((void *)(tcp + 1) > end || ip->proto != IPPROTO_TCP || !(tcp->flags & TCP_RST))
		return XDP_PASS;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return XDP_PASS;
	e->saddr = ip->saddr;
	e->daddr = ip->daddr;
	e->sport = tcp->sport;
	e->dport = tcp->dport;
	e->pad = 0;
	if (tcp->sport == 0)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}
