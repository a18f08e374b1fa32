package ofproto

import (
	"net/netip"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// reply swaps the addresses and ports of a frame() packet.
func reply(f []byte) []byte {
	r := append([]byte(nil), f...)
	copy(r[0:6], f[6:12])
	copy(r[6:12], f[0:6])
	copy(r[26:30], f[30:34])
	copy(r[30:34], f[26:30])
	copy(r[34:36], f[36:38])
	copy(r[36:38], f[34:36])
	return r
}

func TestTunnelFieldsAndConntrack(t *testing.T) {
	ts := newTestSwitch(t, 2)
	vtep := netip.MustParseAddr("192.0.2.2")
	// Port 1's traffic is committed in zone 7 and sent into VNI 5 towards
	// vtep through port 2 (standing in for a tunnel).
	ts.mustFlow(addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(1), ipv4), ins(apply(
		openflow.GokoCTCommit(7),
		setf(openflow.OXMUint(openflow.OXMTunnelID, 5)),
		setf(openflow.OXMTunIPv4(openflow.OXMTunIPv4Dst, vtep)),
		out(2)))))
	// Port 2 delivers to port 1 only replies of zone 7 from vtep.
	ts.mustFlow(addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(2), ipv4, openflow.OXMTunIPv4(openflow.OXMTunIPv4Src, vtep), openflow.OXMCTReply(7)),
		output(1)))

	req := frame(2, 17, 53)
	mf, _ := ts.translate(req, 1)
	want := []datapath.ActionKind{datapath.ActCTCommit, datapath.ActSetField, datapath.ActSetField, datapath.ActOutput}
	if !sameKinds(kinds(mf.Actions), want) {
		t.Fatalf("actions %v, want %v", kinds(mf.Actions), want)
	}
	if mf.Actions[0].Zone != 7 || mf.Actions[2].Field != datapath.FieldTunDst || mf.Actions[2].Value[0] != 192 {
		t.Errorf("commit or tun_dst action wrong: %+v", mf.Actions[:3])
	}

	rep := reply(req)
	var key datapath.FlowKey
	off := datapath.Parse(rep, 2, &key)
	key.TunSrc = 0xc0000202
	mf2 := ts.translateKey(rep, &key, off)
	if len(mf2.Actions) != 0 || len(mf2.Filters) != 1 || mf2.Filters[0].Want {
		t.Fatalf("reply before any commit: actions %v filters %+v", kinds(mf2.Actions), mf2.Filters)
	}
	if mf2.Mask.TunSrc != ^uint32(0) {
		t.Errorf("tun_src not in the megaflow mask")
	}

	// The request goes through the datapath, which commits it.
	ts.ports[1].Inject(req)
	if _, ok := ts.ports[2].Receive(2 * time.Second); !ok {
		t.Fatal("request not forwarded")
	}
	mf2 = ts.translateKey(rep, &key, off)
	if !sameKinds(kinds(mf2.Actions), []datapath.ActionKind{datapath.ActOutput}) || !mf2.Filters[0].Want {
		t.Fatalf("reply after the commit: actions %v filters %+v", kinds(mf2.Actions), mf2.Filters)
	}
	// Not from the right VTEP: no match whatever conntrack says.
	key.TunSrc = 0xc0000203
	mf2 = ts.translateKey(rep, &key, off)
	if len(mf2.Actions) != 0 {
		t.Errorf("reply from another VTEP delivered")
	}
	// Unsolicited traffic from the same peer (another port): no.
	other := reply(frame(2, 17, 54))
	off = datapath.Parse(other, 2, &key)
	key.TunSrc = 0xc0000202
	mf2 = ts.translateKey(other, &key, off)
	if len(mf2.Actions) != 0 {
		t.Errorf("unsolicited packet delivered")
	}

	// Malformed uses are refused.
	bad := openflow.NewExperimenterOXM(openflow.GokoExperimenter, openflow.GokoFieldCTReply, []byte{0, 0, 0, 7}, []byte{0, 0, 0, 0xff})
	if e := ts.flowMod(addFlow(5, openflow.NewMatch(bad), output(1))); e == nil {
		t.Error("masked ct_reply accepted")
	}
	if e := ts.flowMod(addFlow(5, openflow.NewMatch(), ins(apply(setf(openflow.NewOXM(openflow.OXMTunIPv4Dst, []byte{1, 2, 3})))))); e == nil || e.Code != openflow.BACBadSetLen {
		t.Errorf("3-byte tun_dst: %v", e)
	}
	// Strict delete tells ct_reply zones apart.
	del := addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(2), ipv4, openflow.OXMTunIPv4(openflow.OXMTunIPv4Src, vtep), openflow.OXMCTReply(8)), nil)
	del.Command = openflow.FlowDeleteStrict
	ts.mustFlow(del)
	off = datapath.Parse(rep, 2, &key)
	key.TunSrc = 0xc0000202
	mf2 = ts.translateKey(rep, &key, off)
	if len(mf2.Actions) != 1 {
		t.Errorf("delete-strict of zone 8 removed the zone 7 flow")
	}
}
