package ofproto

// Conformance tests: the OpenFlow 1.3 behaviours of issue 13, each checked
// end to end by frames through memory ports and the real datapath, the
// output compared byte for byte and its checksums recomputed.

import (
	"testing"

	"github.com/goko-net/goko/openflow"
)

func gotoTable(id uint8) openflow.Instruction { return openflow.InstGotoTable{TableID: id} }

func inTable(fm *openflow.FlowMod, id uint8) *openflow.FlowMod { fm.TableID = id; return fm }

var ethIPv6 = openflow.OXMEthTypeVal(0x86dd)

// ryuExt is the chain of the public ipv6_exthdr test cases: hop-by-hop
// then authentication, ipv6_exthdr=68 (HOP|AUTH).
var ryuExt = []uint8{0, 51}

func TestConformIPv6ExtHdrMatch(t *testing.T) {
	tcp := func(ext []uint8) []byte { return ip6Pkt(0, ext, 6, l4Hdr(6, 11111, 2222)) }
	cases := []struct {
		name  string
		match openflow.OXM
		ext   []uint8
		hit   bool
	}{
		{"hop|auth exact", openflow.OXMUint(openflow.OXMIPv6ExtHdr, 68), ryuExt, true},
		{"hop|auth exact, no headers", openflow.OXMUint(openflow.OXMIPv6ExtHdr, 68), nil, false},
		{"nonext", openflow.OXMUint(openflow.OXMIPv6ExtHdr, 1), nil, false},
		{"masked auth bit", openflow.OXMUintMasked(openflow.OXMIPv6ExtHdr, 4, 4), ryuExt, true},
		{"masked auth bit, only hop", openflow.OXMUintMasked(openflow.OXMIPv6ExtHdr, 4, 4), []uint8{0}, false},
		{"no extension headers at all", openflow.OXMUint(openflow.OXMIPv6ExtHdr, 0), nil, true},
		{"unseq", openflow.OXMUintMasked(openflow.OXMIPv6ExtHdr, 0x100, 0x100), []uint8{44, 43}, true},
		{"unrep", openflow.OXMUintMasked(openflow.OXMIPv6ExtHdr, 0x80, 0x80), []uint8{43, 43}, true},
		{"dest|router|frag", openflow.OXMUint(openflow.OXMIPv6ExtHdr, 8|16|32), []uint8{60, 43, 44}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestSwitch(t, 3)
			ts.mustFlow(addFlow(10, openflow.NewMatch(ethIPv6, c.match), output(2)))
			ts.mustFlow(addFlow(0, openflow.Match{}, output(3)))
			for _, tag := range [][]uint32{nil, {0x81000000 | 3<<13 | 100}} {
				f := ethFrame(macA, macB, 0x86dd, tcp(c.ext), tag...)
				to := uint32(3)
				if c.hit {
					to = 2
				}
				ts.expectFrame(f, to, f, len(f)-len(tcp(c.ext)))
			}
		})
	}
}

// TestConformIPv6ExtHdrAfterPop: a later table matches ipv6_exthdr on the
// packet an earlier table took out of its MPLS label or PBB header.
func TestConformIPv6ExtHdrAfterPop(t *testing.T) {
	inner := ip6Pkt(0, ryuExt, 6, l4Hdr(6, 11111, 2222))
	customer := ethFrame(macA, macB, 0x86dd, inner)
	for _, c := range []struct {
		name  string
		match []openflow.OXM
		pop   openflow.Action
		in    []byte
	}{
		{"pop_mpls", []openflow.OXM{openflow.OXMEthTypeVal(0x8847)}, openflow.ActionPopMPLS{EtherType: 0x86dd},
			ethFrame(macA, macB, 0x8847, withLabels(inner, mplsLSE(100, 0, true, 64)))},
		{"pop_pbb", []openflow.OXM{openflow.OXMEthTypeVal(0x88e7)}, openflow.ActionPopPBB{},
			pbbFrame(0x123, customer)},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestSwitch(t, 3)
			ts.mustFlow(addFlow(10, openflow.NewMatch(c.match...), ins(apply(c.pop), gotoTable(1))))
			ts.mustFlow(inTable(addFlow(10, openflow.NewMatch(ethIPv6, openflow.OXMUint(openflow.OXMIPv6ExtHdr, 68)), output(2)), 1))
			ts.mustFlow(inTable(addFlow(0, openflow.Match{}, output(3)), 1))
			ts.expectFrame(c.in, 2, customer, 14)
			// The same labels around a packet without the headers miss.
			plain := ip6Pkt(0, nil, 6, l4Hdr(6, 11111, 2222))
			in := ethFrame(macA, macB, 0x8847, withLabels(plain, mplsLSE(100, 0, true, 64)))
			if c.name == "pop_pbb" {
				in = pbbFrame(0x123, ethFrame(macA, macB, 0x86dd, plain))
			}
			ts.expectFrame(in, 3, ethFrame(macA, macB, 0x86dd, plain), 14)
		})
	}
}
