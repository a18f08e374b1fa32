package datapath

// Read-only views of the pmd threads, for operators: the megaflows each pmd
// has cached (ofctl dump-megaflows) and each pmd's cache counters (ofctl
// pmd-stats-show, the metrics endpoint).
//
// The caches belong to their pmd thread and are read without locks, so a
// dump is taken by the pmd itself: DumpMegaflows posts a request in the
// pmd's slot, the pmd answers it between two bursts (one atomic load per
// loop iteration while no dump is pending) and the caller waits. Counters
// are plain fields the pmd increments; it publishes them into atomics
// whenever it folds flow counters (every 20 ms, or at once when
// SyncCounters asks), so reading them takes no lock either.

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
)

// PMDStats are one pmd thread's counters since the datapath started.
type PMDStats struct {
	PMD          int    // pmd index
	Packets      uint64 // received on the ports this pmd polls
	EMCHits      uint64 // found in the exact-match cache
	MegaflowHits uint64 // found in the megaflow classifier
	Misses       uint64 // missed both levels
	Upcalls      uint64 // misses translated by the OpenFlow layer
	LostUpcalls  uint64 // misses dropped over the upcall rate limit
	Megaflows    uint64 // megaflows cached now
}

// pmdCounters are PMDStats as the pmd thread counts them: plain fields,
// written only by that thread.
type pmdCounters struct {
	packets, misses, upcalls, lost uint64
}

// pmdShared is what a pmd publishes for other goroutines.
type pmdShared struct {
	packets, emcHits, megaflowHits, misses, upcalls, lost, megaflows atomic.Uint64
	dump                                                             atomic.Pointer[dumpRequest]
}

// diag holds the published state of every pmd.
type diag struct {
	pmds []pmdShared
}

func newDiag(pmds int) diag { return diag{pmds: make([]pmdShared, pmds)} }

type dumpRequest struct {
	done chan []MegaflowInfo
}

// publish makes the pmd's counters visible; called from foldCounters.
func (p *pmd) publish() {
	if p.idx >= len(p.dp.diag.pmds) {
		return
	}
	s := &p.dp.diag.pmds[p.idx]
	s.packets.Store(p.cnt.packets)
	s.emcHits.Store(p.cache.emcHits)
	s.megaflowHits.Store(p.cache.megaflowHits)
	s.misses.Store(p.cnt.misses)
	s.upcalls.Store(p.cnt.upcalls)
	s.lost.Store(p.cnt.lost)
	s.megaflows.Store(uint64(p.cache.flows))
}

// serveDump answers a pending dump request, if any.
func (p *pmd) serveDump() {
	if p.idx >= len(p.dp.diag.pmds) {
		return
	}
	slot := &p.dp.diag.pmds[p.idx].dump
	if slot.Load() == nil {
		return
	}
	r := slot.Swap(nil)
	if r == nil {
		return
	}
	var out []MegaflowInfo
	for _, pc := range p.cache.byPort {
		for _, st := range pc.subtables {
			for _, f := range st.slots {
				for ; f != nil; f = f.next {
					out = append(out, MegaflowInfo{PMD: p.idx, Key: f.mf.Key, Mask: f.mf.Mask,
						Filters: f.mf.Filters, Actions: f.mf.Actions,
						Packets: f.packets + f.pendPkts, Bytes: f.bytes + f.pendBytes, Used: f.lastUse(p.now)})
				}
			}
		}
	}
	r.done <- out
}

// lastUse is when f was last hit: now if it was hit since the last fold
// of counters (which is when f.used moves).
func (f *cachedFlow) lastUse(now int64) int64 {
	if f.pendPkts > 0 {
		return now
	}
	return f.used
}

// PMDStats returns every pmd's counters, brought up to date.
func (dp *Datapath) PMDStats() []PMDStats {
	dp.SyncCounters()
	out := make([]PMDStats, len(dp.diag.pmds))
	for i := range dp.diag.pmds {
		s := &dp.diag.pmds[i]
		out[i] = PMDStats{PMD: i, Packets: s.packets.Load(), EMCHits: s.emcHits.Load(), MegaflowHits: s.megaflowHits.Load(),
			Misses: s.misses.Load(), Upcalls: s.upcalls.Load(), LostUpcalls: s.lost.Load(), Megaflows: s.megaflows.Load()}
	}
	return out
}

// MegaflowInfo is one cached megaflow of one pmd.
type MegaflowInfo struct {
	PMD       int
	Key, Mask FlowKey // Key is already masked
	Filters   []FilterCheck
	Actions   []Action
	Packets   uint64 // packets that hit it
	Bytes     uint64
	Used      int64 // unix ns of the last hit (0: only the packet that installed it)
}

// ErrDumpTimeout is returned when a pmd does not answer a dump in time.
var ErrDumpTimeout = errors.New("a pmd thread did not answer the dump within 2s")

// DumpMegaflows returns the megaflows every pmd has cached. It returns
// nothing when the pmds are not running (there are no caches then).
func (dp *Datapath) DumpMegaflows() ([]MegaflowInfo, error) {
	if !dp.running.Load() {
		return nil, nil
	}
	reqs := make([]*dumpRequest, len(dp.diag.pmds))
	for i := range reqs {
		reqs[i] = &dumpRequest{done: make(chan []MegaflowInfo, 1)}
		dp.diag.pmds[i].dump.Store(reqs[i])
	}
	var out []MegaflowInfo
	deadline := time.After(2 * time.Second)
	for _, r := range reqs {
		select {
		case flows := <-r.done:
			out = append(out, flows...)
		case <-deadline:
			return out, ErrDumpTimeout
		case <-dp.stop:
			return out, nil
		}
	}
	return out, nil
}

// FormatKey prints the fields of key that mask covers, as Open vSwitch's
// dpctl/dump-flows does: one group per header ("eth(src=...,dst=...)"),
// a field's mask after a slash when it is not all ones, fields that mask
// leaves out not at all.
func FormatKey(key, mask *FlowKey) string {
	var parts []string
	group := func(name string, fields ...string) {
		var set []string
		for _, f := range fields {
			if f != "" {
				set = append(set, f)
			}
		}
		if len(set) > 0 {
			parts = append(parts, name+"("+strings.Join(set, ",")+")")
		}
	}
	if mask.InPort != 0 {
		parts = append(parts, fmt.Sprintf("in_port(%d)", key.InPort))
	}
	group("tunnel", hexField("tun_id", key.TunID, mask.TunID, ^uint64(0)),
		ip4Field("src", key.TunSrc, mask.TunSrc), ip4Field("dst", key.TunDst, mask.TunDst))
	group("eth", macField("src", key.EthSrc, mask.EthSrc), macField("dst", key.EthDst, mask.EthDst))
	group("vlan", hexField("tci", uint64(key.VlanTCI), uint64(mask.VlanTCI), 0xffff))
	group("vlan2", hexField("tci", uint64(key.Vlan2TCI), uint64(mask.Vlan2TCI), 0xffff))
	if mask.EthType != 0 {
		parts = append(parts, "eth_type("+hexField("", uint64(key.EthType), uint64(mask.EthType), 0xffff)+")")
	}
	group("mpls", hexField("lse", uint64(key.MPLSLSE), uint64(mask.MPLSLSE), 0xffffffff))
	group("pbb", hexField("isid", uint64(key.PBBISID), uint64(mask.PBBISID), 0xffffff))
	frag := ""
	if mask.NwFrag != 0 {
		frag = "frag=no"
		switch {
		case key.NwFrag&FragLater != 0:
			frag = "frag=later"
		case key.NwFrag&FragAny != 0:
			frag = "frag=first"
		}
	}
	l3 := []string{decField("proto", uint64(key.NwProto), uint64(mask.NwProto), 0xff),
		hexField("tos", uint64(key.NwTos), uint64(mask.NwTos), 0xff), decField("ttl", uint64(key.NwTTL), uint64(mask.NwTTL), 0xff), frag}
	switch key.EthType {
	case EthTypeARP:
		group("arp", ip4Field("sip", key.NwSrc, mask.NwSrc), ip4Field("tip", key.NwDst, mask.NwDst),
			decField("op", uint64(key.NwProto), uint64(mask.NwProto), 0xff),
			macField("sha", key.ArpSHA, mask.ArpSHA), macField("tha", key.ArpTHA, mask.ArpTHA))
	case EthTypeIPv6:
		group("ipv6", append([]string{ip6Field("src", key.IPv6Src, mask.IPv6Src), ip6Field("dst", key.IPv6Dst, mask.IPv6Dst),
			hexField("label", uint64(key.IPv6Label), uint64(mask.IPv6Label), 0xfffff)}, l3...)...)
	default:
		group("ipv4", append([]string{ip4Field("src", key.NwSrc, mask.NwSrc), ip4Field("dst", key.NwDst, mask.NwDst)}, l3...)...)
	}
	l4 := "tp"
	switch key.NwProto {
	case 6:
		l4 = "tcp"
	case 17:
		l4 = "udp"
	case 132:
		l4 = "sctp"
	case 1, 58:
		l4 = "icmp"
		if key.EthType == EthTypeIPv6 {
			l4 = "icmpv6"
		}
	}
	if l4 == "icmp" || l4 == "icmpv6" {
		group(l4, decField("type", uint64(key.TpSrc), uint64(mask.TpSrc), 0xffff), decField("code", uint64(key.TpDst), uint64(mask.TpDst), 0xffff))
	} else {
		group(l4, decField("src", uint64(key.TpSrc), uint64(mask.TpSrc), 0xffff), decField("dst", uint64(key.TpDst), uint64(mask.TpDst), 0xffff))
	}
	group("tcp_flags", hexField("", uint64(key.TCPFlags), uint64(mask.TCPFlags), 0xffff))
	group("nd", ip6Field("target", key.NDTarget, mask.NDTarget))
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, ",")
}

func hexField(name string, v, m, full uint64) string {
	if m == 0 {
		return ""
	}
	s := fmt.Sprintf("%#x", v&m)
	if m != full {
		s += fmt.Sprintf("/%#x", m)
	}
	if name == "" {
		return s
	}
	return name + "=" + s
}

func decField(name string, v, m, full uint64) string {
	if m == 0 {
		return ""
	}
	if m != full {
		return fmt.Sprintf("%s=%#x/%#x", name, v&m, m)
	}
	return fmt.Sprintf("%s=%d", name, v)
}

func ip4Field(name string, v, m uint32) string {
	if m == 0 {
		return ""
	}
	a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	if m == ^uint32(0) {
		return name + "=" + a.String()
	}
	mk := netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
	return name + "=" + a.String() + "/" + mk.String()
}

func ip6Field(name string, v, m [16]byte) string {
	if m == [16]byte{} {
		return ""
	}
	s := name + "=" + netip.AddrFrom16(v).String()
	if m != [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
		s += "/" + netip.AddrFrom16(m).String()
	}
	return s
}

func macField(name string, v, m [6]byte) string {
	if m == [6]byte{} {
		return ""
	}
	s := fmt.Sprintf("%s=%02x:%02x:%02x:%02x:%02x:%02x", name, v[0], v[1], v[2], v[3], v[4], v[5])
	if m != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
		s += fmt.Sprintf("/%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	}
	return s
}

var fieldNames = [...]string{FieldEthDst: "eth_dst", FieldEthSrc: "eth_src", FieldVlanVID: "vlan_vid",
	FieldVlanPCP: "vlan_pcp", FieldIPv4Src: "ipv4_src", FieldIPv4Dst: "ipv4_dst", FieldIPDSCP: "ip_dscp",
	FieldIPECN: "ip_ecn", FieldIPv6Src: "ipv6_src", FieldIPv6Dst: "ipv6_dst", FieldIPv6Label: "ipv6_label",
	FieldTpSrc: "tp_src", FieldTpDst: "tp_dst", FieldICMPType: "icmp_type", FieldICMPCode: "icmp_code",
	FieldARPOp: "arp_op", FieldARPSPA: "arp_spa", FieldARPTPA: "arp_tpa", FieldARPSHA: "arp_sha",
	FieldARPTHA: "arp_tha", FieldNDTarget: "nd_target", FieldNDSLL: "nd_sll", FieldNDTLL: "nd_tll",
	FieldMPLSLabel: "mpls_label", FieldMPLSTC: "mpls_tc", FieldMPLSBOS: "mpls_bos", FieldTunID: "tun_id",
	FieldTunSrc: "tun_src", FieldTunDst: "tun_dst", FieldPBBISID: "pbb_isid"}

// fieldWidths is the number of bytes of Action.Value each field uses.
var fieldWidths = [...]int{FieldEthDst: 6, FieldEthSrc: 6, FieldVlanVID: 2, FieldVlanPCP: 1, FieldIPv4Src: 4,
	FieldIPv4Dst: 4, FieldIPDSCP: 1, FieldIPECN: 1, FieldIPv6Src: 16, FieldIPv6Dst: 16, FieldIPv6Label: 4,
	FieldTpSrc: 2, FieldTpDst: 2, FieldICMPType: 1, FieldICMPCode: 1, FieldARPOp: 2, FieldARPSPA: 4,
	FieldARPTPA: 4, FieldARPSHA: 6, FieldARPTHA: 6, FieldNDTarget: 16, FieldNDSLL: 6, FieldNDTLL: 6,
	FieldMPLSLabel: 4, FieldMPLSTC: 1, FieldMPLSBOS: 1, FieldTunID: 8, FieldTunSrc: 4, FieldTunDst: 4, FieldPBBISID: 3}

func formatValue(f Field, v *[16]byte) string {
	if int(f) >= len(fieldWidths) || fieldWidths[f] == 0 {
		return fmt.Sprintf("%x", v[:])
	}
	b := v[:fieldWidths[f]]
	switch len(b) {
	case 6:
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
	case 16:
		return netip.AddrFrom16([16]byte(b)).String()
	}
	switch f {
	case FieldIPv4Src, FieldIPv4Dst, FieldARPSPA, FieldARPTPA, FieldTunSrc, FieldTunDst:
		return netip.AddrFrom4([4]byte(b)).String()
	}
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	return fmt.Sprint(n)
}

// FormatActions prints a datapath action list: "drop" when empty, else
// the actions separated by commas, e.g.
// "set(eth_dst=02:00:00:00:00:02),output:2".
func FormatActions(acts []Action) string {
	if len(acts) == 0 {
		return "drop"
	}
	parts := make([]string, 0, len(acts))
	for i := range acts {
		parts = append(parts, formatAction(&acts[i]))
	}
	return strings.Join(parts, ",")
}

func formatAction(a *Action) string {
	switch a.Kind {
	case ActOutput:
		return fmt.Sprintf("output:%d", a.Port)
	case ActUserspace:
		if s, ok := a.User.Arg.(fmt.Stringer); ok {
			return "userspace(" + s.String() + ")"
		}
		return "userspace"
	case ActSetField:
		name := fmt.Sprintf("field%d", a.Field)
		if int(a.Field) < len(fieldNames) && fieldNames[a.Field] != "" {
			name = fieldNames[a.Field]
		}
		return "set(" + name + "=" + formatValue(a.Field, &a.Value) + ")"
	case ActPushVLAN:
		return fmt.Sprintf("push_vlan(%#04x)", a.Arg)
	case ActPopVLAN:
		return "pop_vlan"
	case ActPushMPLS:
		return fmt.Sprintf("push_mpls(%#04x)", a.Arg)
	case ActPopMPLS:
		return fmt.Sprintf("pop_mpls(%#04x)", a.Arg)
	case ActSetMPLSTTL:
		return fmt.Sprintf("set_mpls_ttl(%d)", a.Arg)
	case ActDecMPLSTTL:
		return "dec_mpls_ttl"
	case ActSetNwTTL:
		return fmt.Sprintf("set_ttl(%d)", a.Arg)
	case ActDecNwTTL:
		return "dec_ttl"
	case ActCopyTTLOut:
		return "copy_ttl_out"
	case ActCopyTTLIn:
		return "copy_ttl_in"
	case ActSelect:
		var bs []string
		for _, b := range a.Group.Buckets {
			bs = append(bs, fmt.Sprintf("bucket(weight=%d,%s)", b.Weight, FormatActions(b.Actions)))
		}
		return "select(" + strings.Join(bs, ",") + ")"
	case ActClone:
		return "clone(" + FormatActions(a.Nested) + ")"
	case ActMeter:
		return "meter"
	case ActSetQueue:
		return fmt.Sprintf("set_queue(%d)", a.Port)
	case ActPushPBB:
		return fmt.Sprintf("push_pbb(%#04x)", a.Arg)
	case ActPopPBB:
		return "pop_pbb"
	case ActCTCommit:
		return fmt.Sprintf("ct_commit(%d)", a.Zone)
	}
	return fmt.Sprintf("action%d", a.Kind)
}

// FormatFilters prints a filter chain: each program (by its String method
// when it has one) with the result the megaflow needs from it.
func FormatFilters(fs []FilterCheck) string {
	parts := make([]string, len(fs))
	for i, fc := range fs {
		name := fmt.Sprintf("%T", fc.Filter)
		if s, ok := fc.Filter.(fmt.Stringer); ok {
			name = s.String()
		}
		want := "match"
		if !fc.Want {
			want = "no_match"
		}
		parts[i] = name + ":" + want
	}
	return strings.Join(parts, ",")
}

// String names a conntrack reply check in traces and megaflow dumps.
func (f ctReply) String() string { return fmt.Sprintf("ct_reply(zone=%d)", f.zone) }

// FormatFlow prints a packet's flow key: the fields that are set (non-zero),
// and the input port, in FormatKey's syntax.
func FormatFlow(key *FlowKey) string {
	var m FlowKey
	m.InPort = ^uint32(0)
	set := func(v, full uint64) uint64 {
		if v != 0 {
			return full
		}
		return 0
	}
	m.TunID = set(key.TunID, ^uint64(0))
	m.TunSrc = uint32(set(uint64(key.TunSrc), 0xffffffff))
	m.TunDst = uint32(set(uint64(key.TunDst), 0xffffffff))
	m.MPLSLSE = uint32(set(uint64(key.MPLSLSE), 0xffffffff))
	m.EthSrc, m.EthDst = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	m.EthType = uint16(set(uint64(key.EthType), 0xffff))
	m.VlanTCI = uint16(set(uint64(key.VlanTCI), 0xffff))
	m.Vlan2TCI = uint16(set(uint64(key.Vlan2TCI), 0xffff))
	m.TCPFlags = uint16(set(uint64(key.TCPFlags), 0xffff))
	m.PBBISID = uint32(set(uint64(key.PBBISID), 0xffffff))
	if key.EthType == EthTypeIPv4 || key.EthType == EthTypeIPv6 || key.EthType == EthTypeARP {
		m.NwSrc, m.NwDst, m.NwProto = ^uint32(0), ^uint32(0), 0xff
		if key.EthType != EthTypeARP {
			m.NwTos, m.NwTTL, m.NwFrag = uint8(set(uint64(key.NwTos), 0xff)), 0xff, 0xff
			if key.NwProto != 0 && key.NwFrag&FragLater == 0 {
				m.TpSrc, m.TpDst = 0xffff, 0xffff
			}
		}
	}
	full16 := [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if key.EthType == EthTypeIPv6 {
		m.IPv6Src, m.IPv6Dst, m.IPv6Label = full16, full16, uint32(set(uint64(key.IPv6Label), 0xfffff))
		m.NwSrc, m.NwDst = 0, 0
	}
	if key.ArpSHA != ([6]byte{}) || key.ArpTHA != ([6]byte{}) {
		m.ArpSHA, m.ArpTHA = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	if key.NDTarget != ([16]byte{}) {
		m.NDTarget = full16
	}
	return FormatKey(key, &m)
}
