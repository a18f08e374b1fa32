package ofproto

// The prerequisites of OpenFlow fields (which eth_type, ip_proto,
// icmpv6_type or VLAN a field needs) are written down in four places: the
// codec's match check (openflow.Match.CheckPrereqs), ofctl's flow parser
// (ctl/flowsyntax), set_field validation (protoCtx.allowsSet) and the
// translation's megaflow mask (prereqMask). This test makes them agree on
// every basic field in every header context.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// prereqCtx is one header context: zero values are "not in the match".
type prereqCtx struct {
	eth   uint16
	proto uint8
	icmp6 uint8
	vlan  bool
}

func (c prereqCtx) oxms() []openflow.OXM {
	o := []openflow.OXM{openflow.OXMInPortVal(1)}
	if c.vlan {
		o = append(o, openflow.OXMVlanVIDVal(0x1000|5))
	}
	if c.eth != 0 {
		o = append(o, openflow.OXMEthTypeVal(c.eth))
	}
	if c.proto != 0 {
		o = append(o, openflow.OXMIPProtoVal(c.proto))
	}
	if c.icmp6 != 0 {
		o = append(o, openflow.OXMUint(openflow.OXMICMPv6Type, uint64(c.icmp6)))
	}
	return o
}

func (c prereqCtx) text() string {
	s := []string{"in_port=1"}
	if c.vlan {
		s = append(s, "vlan_vid=0x1005")
	}
	if c.eth != 0 {
		s = append(s, fmt.Sprintf("eth_type=%#x", c.eth))
	}
	if c.proto != 0 {
		s = append(s, fmt.Sprintf("ip_proto=%d", c.proto))
	}
	if c.icmp6 != 0 {
		s = append(s, fmt.Sprintf("icmpv6_type=%d", c.icmp6))
	}
	return strings.Join(s, ",")
}

// sample returns a value of field f as an OXM and in ofctl's syntax.
func sample(f openflow.Field) (openflow.OXM, string) {
	switch f.Size() {
	case 6:
		return openflow.NewOXM(f, []byte{0, 0, 0, 0, 0, 1}), "00:00:00:00:00:01"
	case 16:
		return openflow.NewOXM(f, []byte{15: 1}), "::1"
	}
	switch f {
	case openflow.OXMIPv4Src, openflow.OXMIPv4Dst, openflow.OXMARPSPA, openflow.OXMARPTPA:
		return openflow.OXMUint(f, 0x0a000001), "10.0.0.1"
	case openflow.OXMVlanVID:
		return openflow.OXMVlanVIDVal(0x1001), "0x1001"
	}
	return openflow.OXMUint(f, 1), "1"
}

func TestPrerequisitesAgree(t *testing.T) {
	var ctxs []prereqCtx
	for _, eth := range []uint16{0, 0x0800, 0x86dd, 0x0806, 0x8847, 0x88e7} {
		for _, proto := range []uint8{0, 1, 6, 17, 58, 132} {
			for _, icmp6 := range []uint8{0, 128, 135, 136} {
				for _, vlan := range []bool{false, true} {
					c := prereqCtx{eth, proto, icmp6, vlan}
					if m := openflow.NewMatch(c.oxms()...); m.CheckPrereqs() == nil {
						ctxs = append(ctxs, c)
					}
				}
			}
		}
	}
	settable := map[openflow.Field]map[prereqCtx]bool{}
	for _, f := range openflow.BasicFields() {
		o, text := sample(f)
		for _, c := range ctxs {
			m := openflow.NewMatch(c.oxms()...)
			if m.Field(f) != nil || f == openflow.OXMInPort {
				continue
			}
			m.Fields = append(m.Fields, o)
			codec := m.CheckPrereqs() == nil
			// ofctl: like ovs-ofctl, a vlan_pcp without vlan_vid means
			// "any VLAN" and is accepted, filling in the vlan_vid.
			_, err := flowsyntax.ParseMatch(c.text()+","+f.String()+"="+text, nil)
			parser := err == nil
			if f == openflow.OXMVlanPCP && !c.vlan {
				parser = !parser
			}
			if parser != codec {
				t.Errorf("%s in %q: codec accepts %v, ofctl %v (%v)", f, c.text(), codec, err == nil, err)
			}
			if codec {
				if _, err := compileMatch(&m); err != nil {
					t.Errorf("%s in %q: the codec accepts it, compileMatch says %v", f, c.text(), err)
				}
			}
			if _, ok := setFields[f]; !ok {
				continue
			}
			cm := openflow.NewMatch(c.oxms()...)
			set := matchCtx(&cm).allowsSet(f)
			want := codec
			if f == openflow.OXMVlanVID {
				want = c.vlan // setting a VID needs a tag; matching one does not
			}
			if set != want {
				t.Errorf("set_field %s in %q: allowed %v, the match prerequisites say %v", f, c.text(), set, want)
			}
			if settable[f] == nil {
				settable[f] = map[prereqCtx]bool{}
			}
			settable[f][c] = set
		}
	}
	// Whatever decides allowsSet must be in prereqMask, or one megaflow
	// could cover packets that differ in it.
	dims := []struct {
		name  string
		blank func(prereqCtx) prereqCtx // forgets the dimension
		in    func(*datapath.FlowKey) bool
	}{
		{"eth_type", func(c prereqCtx) prereqCtx { c.eth = 0; return c }, func(k *datapath.FlowKey) bool { return k.EthType == 0xffff }},
		{"ip_proto", func(c prereqCtx) prereqCtx { c.proto = 0; return c }, func(k *datapath.FlowKey) bool { return k.NwProto == 0xff }},
		{"icmpv6_type", func(c prereqCtx) prereqCtx { c.icmp6 = 0; return c }, func(k *datapath.FlowKey) bool { return k.TpSrc&0xff == 0xff }},
		{"vlan", func(c prereqCtx) prereqCtx { c.vlan = false; return c }, func(k *datapath.FlowKey) bool { return k.VlanTCI&datapath.VlanPresent != 0 }},
	}
	for f, byCtx := range settable {
		pm := prereqMask(f)
		for _, d := range dims {
			decides := false
			for a, va := range byCtx {
				for b, vb := range byCtx {
					if va != vb && d.blank(a) == d.blank(b) {
						decides = true
					}
				}
			}
			if decides && !d.in(&pm) {
				t.Errorf("set_field %s depends on %s, which prereqMask leaves out", f, d.name)
			}
		}
	}
}
