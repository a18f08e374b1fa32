package ofproto

// Tunnel metadata fields. tun_id is the standard OXM TUNNEL_ID. The outer
// IPv4 addresses of a decapsulated packet, and the destination VTEP of a
// packet about to be encapsulated by a flow-based tunnel port, use Open
// vSwitch's NXM fields NXM_NX_TUN_IPV4_SRC and NXM_NX_TUN_IPV4_DST (class
// 0x0001, fields 31 and 32, 4 bytes, maskable), which OVS tools already
// know. They can be matched (decapsulated packets carry them; native
// packets have 0) and written with set_field. The encoders of these fields
// live in package openflow (goko.go), so that controllers can use them
// without this package.

import (
	"encoding/binary"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

func isTunIPv4Field(f openflow.Field) bool {
	return f == openflow.OXMTunIPv4Src || f == openflow.OXMTunIPv4Dst
}

// compileTunIPv4 compiles a tun_src or tun_dst match into fm.
func compileTunIPv4(o *openflow.OXM, fm *flowMatch) error {
	if len(o.Value) != 4 || (o.Mask != nil && len(o.Mask) != 4) {
		return openflow.Errorf(openflow.BMCBadLen, "%s: want 4 bytes", tunFieldName(o.Field))
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
	return nil
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
