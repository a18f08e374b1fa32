package ofproto

// End-to-end tests: flows installed over OpenFlow, packets through memory
// ports and the real datapath, frames checked on the way out.

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/goko-net/goko/openflow"
)

// ipv4Sum returns the IPv4 header checksum over hdr (0 when valid).
func ipv4Sum(hdr []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(hdr); i += 2 {
		s += uint32(binary.BigEndian.Uint16(hdr[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func withIPSum(f []byte) []byte {
	binary.BigEndian.PutUint16(f[24:], 0)
	binary.BigEndian.PutUint16(f[24:], ipv4Sum(f[14:34]))
	return f
}

func TestE2ESetFieldAcrossTables(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.mustFlow(addFlow(1, openflow.NewMatch(ipv4), ins(
		apply(setf(openflow.OXMUint(openflow.OXMIPv4Dst, 0x0a000063))), openflow.InstGotoTable{TableID: 1})))
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowAdd, TableID: 1, Priority: 5, BufferID: openflow.NoBuffer,
		Match: openflow.NewMatch(ipv4, openflow.OXMUint(openflow.OXMIPv4Dst, 0x0a000063)), Instructions: output(2)})
	ts.ports[1].Inject(withIPSum(frame(2, 17, 53)))
	got, ok := ts.ports[2].Receive(2 * time.Second)
	if !ok {
		t.Fatal("not forwarded")
	}
	if got[33] != 0x63 || ipv4Sum(got[14:34]) != 0 {
		t.Fatalf("nw_dst %d, checksum %#x", got[33], ipv4Sum(got[14:34]))
	}
}

func TestE2EPushVLAN(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.mustFlow(addFlow(1, openflow.Match{}, ins(write(out(2), setf(openflow.OXMVlanVIDVal(0x1000|42)),
		openflow.ActionPushVLAN{EtherType: 0x8100}))))
	ts.ports[1].Inject(frame(2, 17, 53))
	got, ok := ts.ports[2].Receive(2 * time.Second)
	if !ok {
		t.Fatal("not forwarded")
	}
	if binary.BigEndian.Uint16(got[12:]) != 0x8100 || binary.BigEndian.Uint16(got[14:])&0xfff != 42 || binary.BigEndian.Uint16(got[16:]) != 0x0800 {
		t.Fatalf("frame % x", got[:18])
	}
}

func TestE2EInvalidTTL(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.mustFlow(addFlow(1, openflow.NewMatch(ipv4), ins(apply(openflow.ActionDecNWTTL{}, out(2)))))
	f := frame(2, 17, 53)
	f[22] = 1
	ts.ports[1].Inject(withIPSum(f))
	pi, ok := ts.recv().(*openflow.PacketIn)
	if !ok || pi.Reason != openflow.PacketInReasonInvalidTTL {
		t.Fatalf("got %+v, want an INVALID_TTL packet-in", pi)
	}
	if _, ok := ts.ports[2].Receive(100 * time.Millisecond); ok {
		t.Fatal("a packet with an invalid TTL was forwarded")
	}
	f[22] = 9
	ts.ports[1].Inject(withIPSum(f))
	got, ok := ts.ports[2].Receive(2 * time.Second)
	if !ok || got[22] != 8 || ipv4Sum(got[14:34]) != 0 {
		t.Fatalf("ttl 9: forwarded %v ttl %d", ok, got[22])
	}
}

func TestE2ESelectGroup(t *testing.T) {
	ts := newTestSwitch(t, 3)
	ts.mustGroup(groupAdd(1, openflow.GroupTypeSelect,
		openflow.Bucket{Weight: 1, WatchPort: openflow.PortAny, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(2)}},
		openflow.Bucket{Weight: 1, WatchPort: openflow.PortAny, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(3)}}))
	ts.mustFlow(addFlow(1, openflow.Match{}, toGroup(1)))
	const n = 64
	for i := range n {
		ts.ports[1].Inject(frame(2, 17, uint16(1000+i)))
	}
	got := [4]int{}
	for _, p := range []uint32{2, 3} {
		for {
			if _, ok := ts.ports[p].Receive(300 * time.Millisecond); !ok {
				break
			}
			got[p]++
		}
	}
	if got[2]+got[3] != n || got[2] == 0 || got[3] == 0 {
		t.Fatalf("select spread %d/%d of %d", got[2], got[3], n)
	}
	st := ts.request(&openflow.MultipartRequest{Body: &openflow.GroupStatsRequest{GroupID: 1}})[0].(*openflow.MultipartReply).Body.(*openflow.GroupStatsReply).Stats[0]
	if st.PacketCount != n || st.Buckets[0].PacketCount != uint64(got[2]) || st.Buckets[1].PacketCount != uint64(got[3]) {
		t.Fatalf("group stats %+v, delivered %v", st, got)
	}
}

func TestE2EMeterDrops(t *testing.T) {
	ts := newTestSwitch(t, 2)
	if c := ts.errOf(meterAdd(1, openflow.MeterFlagPktps|openflow.MeterFlagBurst|openflow.MeterFlagStats,
		openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 1, BurstSize: 5})); c != 0 {
		t.Fatal(c)
	}
	ts.mustFlow(addFlow(1, openflow.Match{}, ins(openflow.InstMeter{MeterID: 1}, apply(out(2)))))
	const n = 40
	for range n {
		ts.ports[1].Inject(frame(2, 17, 53))
	}
	delivered := 0
	for {
		if _, ok := ts.ports[2].Receive(300 * time.Millisecond); !ok {
			break
		}
		delivered++
	}
	if delivered == 0 || delivered >= n {
		t.Fatalf("%d of %d packets passed a 1 pkt/s meter with burst 5", delivered, n)
	}
	st := ts.request(&openflow.MultipartRequest{Body: &openflow.MeterStatsRequest{MeterID: 1}})[0].(*openflow.MultipartReply).Body.(*openflow.MeterStatsReply).Stats[0]
	if st.PacketInCount != n || st.Bands[0].PacketBandCount != uint64(n-delivered) || st.FlowCount != 1 {
		t.Fatalf("meter stats %+v, %d delivered", st, delivered)
	}
}
