package ofproto

// Tenant-network extensions: tunnel metadata fields and connection
// tracking.
//
// Tunnel fields. tun_id is the standard OXM TUNNEL_ID. The outer IPv4
// addresses of a decapsulated packet, and the destination VTEP of a packet
// about to be encapsulated by a flow-based tunnel port, use Open vSwitch's
// NXM fields NXM_NX_TUN_IPV4_SRC and NXM_NX_TUN_IPV4_DST (class 0x0001,
// fields 31 and 32, 4 bytes, maskable), which OVS tools already know. They
// can be matched (decapsulated packets carry them; native packets have 0)
// and written with set_field.
//
// Connection tracking (see datapath/conntrack.go) is exposed as one match
// field and one action, both under goko's experimenter id:
//
//   - ct_reply=ZONE, an experimenter OXM (class 0xFFFF, field 16, 4-byte
//     zone, no mask): the packet is a reply within a live connection that
//     was committed in ZONE. Like filter_prog, a flow whose other fields
//     match but whose ct_reply does not sends the lookup on to
//     lower-priority flows, and the datapath re-checks the result for
//     every packet of a cached megaflow.
//   - ct_commit(ZONE), an experimenter action (subtype 0x0100, then 2 bytes
//     of padding and the 4-byte zone): record the packet's connection in
//     ZONE.

import (
	"encoding/binary"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// The encoders of these fields and of ct_commit live in package openflow
// (goko.go), so that controllers can use them without this package.

func isTunIPv4Field(f openflow.Field) bool {
	return f == openflow.OXMTunIPv4Src || f == openflow.OXMTunIPv4Dst
}

// compileTenantField compiles the fields of this file into fm. handled is
// false for any other field.
func compileTenantField(o *openflow.OXM, fm *flowMatch) (handled bool, err error) {
	if isTunIPv4Field(o.Field) {
		if len(o.Value) != 4 || (o.Mask != nil && len(o.Mask) != 4) {
			return true, openflow.Errorf(openflow.BMCBadLen, "%s: want 4 bytes", tunFieldName(o.Field))
		}
		v, m := binary.BigEndian.Uint32(o.Value), ^uint32(0)
		if o.Mask != nil {
			m = binary.BigEndian.Uint32(o.Mask)
		}
		if o.Field == openflow.OXMTunIPv4Src {
			fm.value.TunSrc, fm.mask.TunSrc = v, m
		} else {
			fm.value.TunDst, fm.mask.TunDst = v, m
		}
		return true, nil
	}
	if o.Field == openflow.MakeField(openflow.OXMClassExperimenter, openflow.GokoFieldCTReply) && o.Experimenter == openflow.GokoExperimenter {
		zone, ok := openflow.CTReplyZone(o)
		if !ok {
			return true, openflow.Errorf(openflow.BMCBadLen, "ct_reply: want a 4-byte zone and no mask")
		}
		fm.ct, fm.ctZone = true, zone
		return true, nil
	}
	return false, nil
}

func tunFieldName(f openflow.Field) string {
	if f == openflow.OXMTunIPv4Src {
		return "tun_src"
	}
	return "tun_dst"
}

// checkTunSetField validates set_field of tun_src or tun_dst.
func checkTunSetField(o openflow.OXM) error {
	if len(o.Value) != 4 {
		return openflow.Errorf(openflow.BACBadSetLen, "set_field %s: %d bytes, want 4", tunFieldName(o.Field), len(o.Value))
	}
	if o.Mask != nil {
		return openflow.Errorf(openflow.BACBadSetArgument, "set_field %s: OpenFlow 1.3 set_field takes no mask", tunFieldName(o.Field))
	}
	return nil
}

func init() {
	setFields[openflow.OXMTunIPv4Src] = datapath.FieldTunSrc
	setFields[openflow.OXMTunIPv4Dst] = datapath.FieldTunDst
}

// ctPass checks ct_reply=zone for the packet being translated, at most
// once per translation, and records the result in the megaflow's filter
// chain, as filterPass does for filter programs.
func (x *xlate) ctPass(zone uint32) bool {
	if x.b.dp == nil {
		return false
	}
	f := x.b.dp.Conntrack().ReplyFilter(zone)
	for _, fc := range x.t.Filters {
		if fc.Filter == f {
			return fc.Want
		}
	}
	res := f.Match(x.in)
	if x.tr != nil {
		x.tr.ctCheck(f, res)
	}
	x.t.Filters = append(x.t.Filters, datapath.FilterCheck{Filter: f, Want: res})
	return res
}
