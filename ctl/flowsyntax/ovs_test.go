package flowsyntax

// These tests use the real ovs-ofctl as the reference: it parses the same
// flow strings, and prints (ofp-print) the bytes this package encodes.
// They are skipped when ovs-ofctl is not installed (Debian:
// openvswitch-common).

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/goko-net/goko/openflow"
)

func needOVS(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		t.Skip("ovs-ofctl not installed; skipping comparison with Open vSwitch")
	}
	return p
}

// ovs runs ovs-ofctl and returns its standard output (warnings go to
// stderr and are ignored).
func ovs(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Logf("ovs-ofctl %v: %s", args, ee.Stderr)
		}
		return "ERROR: " + err.Error()
	}
	return string(out)
}

func ofpPrint(t *testing.T, bin string, m openflow.Message) string {
	t.Helper()
	b, err := openflow.Marshal(1, m)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return ovs(t, bin, "ofp-print", hex.EncodeToString(b))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestOVSParseFlow checks that for every flow string ovs-ofctl accepts,
// the FLOW_MOD this package encodes is the one ovs-ofctl builds, as far
// as ovs-ofctl's printing of both can tell.
func TestOVSParseFlow(t *testing.T) {
	bin := needOVS(t)
	for _, tc := range roundTrips {
		if notInOVS[tc.in] {
			continue
		}
		fm, err := ParseFlow(tc.in)
		if err != nil {
			t.Errorf("ParseFlow(%q): %v", tc.in, err)
			continue
		}
		want := lastLine(ovs(t, bin, "-O", "OpenFlow13", "parse-flow", tc.in))
		got := lastLine(ofpPrint(t, bin, fm))
		if got != want {
			t.Errorf("%q:\novs-ofctl parses it as %s\n   we encode it as %s", tc.in, want, got)
		}
	}
}

// TestOVSFlowStats checks FormatFlowStats against ovs-ofctl's printing
// of a flow-stats reply, which is what dump-flows prints.
func TestOVSFlowStats(t *testing.T) {
	bin := needOVS(t)
	var stats []openflow.FlowStats
	for i, tc := range roundTrips {
		if notInOVS[tc.in] {
			continue
		}
		fm, err := ParseFlow(tc.in)
		if err != nil {
			t.Fatalf("ParseFlow(%q): %v", tc.in, err)
		}
		// Vary the statistics so every printing rule is exercised.
		nsec := []uint32{0, 1, 500000, 123000000, 999999999}[i%5]
		stats = append(stats, openflow.FlowStats{TableID: fm.TableID, DurationSec: uint32(i * 37),
			DurationNsec: nsec, Priority: fm.Priority, IdleTimeout: fm.IdleTimeout, HardTimeout: fm.HardTimeout,
			Flags: fm.Flags, Cookie: fm.Cookie, PacketCount: uint64(i * i), ByteCount: uint64(i * 1000),
			Match: fm.Match, Instructions: fm.Instructions})
	}
	stats = append(stats, openflow.FlowStats{Priority: 1, PacketCount: ^uint64(0), ByteCount: ^uint64(0)})
	compareFlowStats(t, bin, stats)
}

// TestOVSActions checks the printing of actions and set_field values the
// parser never builds on its own (each is a flow of its own: ovs-ofctl
// rejects a whole reply if it dislikes one action).
func TestOVSActions(t *testing.T) {
	bin := needOVS(t)
	sf := func(f openflow.Field, v uint64) openflow.Action {
		return openflow.ActionSetField{Field: openflow.OXMUint(f, v)}
	}
	acts := []openflow.Action{
		sf(openflow.OXMVlanVID, 0x1005), sf(openflow.OXMVlanPCP, 3), sf(openflow.OXMEthSrc, 0x010203040506),
		sf(openflow.OXMIPv4Dst, 0x01020304), sf(openflow.OXMTCPDst, 80), sf(openflow.OXMIPDSCP, 3),
		sf(openflow.OXMIPECN, 1), sf(openflow.OXMMetadata, 5), sf(openflow.OXMMetadata, 0), sf(openflow.OXMTunnelID, 0x10),
		sf(openflow.OXMIPv6FLabel, 5), sf(openflow.OXMARPOp, 2), sf(openflow.OXMICMPv4Type, 3),
		sf(openflow.OXMMPLSLabel, 5), sf(openflow.OXMICMPv6Code, 1), sf(openflow.OXMUDPSrc, 1),
		sf(openflow.OXMARPSPA, 0x01020304), sf(openflow.OXMARPTHA, 1), sf(openflow.OXMIPv6NDSLL, 1),
		sf(openflow.OXMMPLSTC, 1), sf(openflow.OXMSCTPDst, 9), sf(openflow.OXMICMPv4Code, 2),
		openflow.ActionSetField{Field: openflow.NewOXM(openflow.OXMIPv6Dst, []byte{0xfe, 0x80, 15: 1})},
		openflow.ActionSetMPLSTTL{TTL: 4}, openflow.ActionDecMPLSTTL{}, openflow.ActionPushVLAN{EtherType: 0x8100},
		openflow.ActionPopVLAN{}, openflow.ActionPushMPLS{EtherType: 0x8847}, openflow.ActionPopMPLS{EtherType: 0x800},
		openflow.ActionSetQueue{QueueID: 3}, openflow.ActionGroup{GroupID: 4}, openflow.ActionSetNWTTL{TTL: 9},
		openflow.ActionDecNWTTL{}, openflow.ActionOutput{Port: openflow.PortController, MaxLen: 0},
		openflow.ActionOutput{Port: 7, MaxLen: 100}, openflow.ActionOutput{Port: openflow.PortTable},
	}
	for _, a := range acts {
		compareFlowStats(t, bin, []openflow.FlowStats{{Priority: openflow.DefaultPriority,
			Instructions: []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{a}}}}})
	}
	compareFlowStats(t, bin, []openflow.FlowStats{{Priority: openflow.DefaultPriority, Instructions: []openflow.Instruction{
		openflow.InstGotoTable{TableID: 3}, openflow.InstWriteMetadata{Metadata: 0, Mask: 0xff},
		openflow.InstWriteActions{}, openflow.InstClearActions{}, openflow.InstApplyActions{}, openflow.InstMeter{MeterID: 5}}}})
}

func compareFlowStats(t *testing.T, bin string, stats []openflow.FlowStats) {
	t.Helper()
	out := ofpPrint(t, bin, &openflow.MultipartReply{Body: &openflow.FlowStatsReply{Stats: stats}})
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(stats)+1 || !strings.HasPrefix(lines[0], "OFPST_FLOW reply (OF1.3)") {
		t.Errorf("unexpected ovs-ofctl output:\n%s", out)
		return
	}
	for i := range stats {
		want := lines[i+1]
		if got := " " + FormatFlowStats(&stats[i], true); got != want {
			t.Errorf("flow %d:\novs-ofctl: %s\n      we: %s", i, want, got)
		}
	}
}
