package ofproto

import (
	"encoding/binary"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// flowMatch is an OpenFlow match compiled into the datapath's key space: a
// packet matches when (key AND mask) == value, and its pipeline metadata
// matches when (metadata AND mdMask) == md. Compiling once at flow-mod time
// lets the pipeline compare whole words, and lets the megaflow mask of a
// translation be the OR of the masks it looked at.
type flowMatch struct {
	value datapath.FlowKey
	// mask is shared by every rule of a classifier subtable, so nothing
	// writes it after compileMatch.
	mask       *datapath.FlowKey
	md, mdMask uint64
	// filterID is the filter_prog of the match (0: none); filter is the
	// registry entry it resolved to when the flow was added.
	filterID uint32
	filter   *filterProg
	// ct is set for a ct_reply=ctZone match (conntrack.go).
	ct     bool
	ctZone uint32
}

// compileMatch converts m, whose fields the codec has already checked for
// length, mask and duplicates, and whose prerequisites hold. Fields goko
// cannot match on yet get OFPBMC_BAD_FIELD.
func compileMatch(m *openflow.Match) (flowMatch, error) {
	fm := flowMatch{mask: new(datapath.FlowKey)}
	v, k := &fm.value, fm.mask
	for i := range m.Fields {
		o := &m.Fields[i]
		val, msk := o.Value, o.Mask
		if msk == nil {
			msk = ones(len(val))
		}
		switch o.Field {
		case openflow.OXMInPort, openflow.OXMInPhyPort:
			p := be32(val)
			if p == 0 || (p > openflow.PortMax && p != openflow.PortLocal && p != openflow.PortController) {
				return fm, openflow.Errorf(openflow.BMCBadValue, "%v=%#x is not a valid port", o.Field, p)
			}
			v.InPort, k.InPort = p, 0xffffffff
		case openflow.OXMMetadata:
			fm.md, fm.mdMask = binary.BigEndian.Uint64(val), binary.BigEndian.Uint64(msk)
		case openflow.OXMEthDst:
			copy(v.EthDst[:], val)
			copy(k.EthDst[:], msk)
		case openflow.OXMEthSrc:
			copy(v.EthSrc[:], val)
			copy(k.EthSrc[:], msk)
		case openflow.OXMEthType:
			v.EthType, k.EthType = be16(val), 0xffff
		case openflow.OXMVlanVID:
			// OFPVID_PRESENT (0x1000) is the datapath's VlanPresent bit.
			mm := be16(msk) & 0x1fff
			v.VlanTCI, k.VlanTCI = (v.VlanTCI&^mm)|(be16(val)&mm), k.VlanTCI|mm
		case openflow.OXMVlanPCP:
			v.VlanTCI |= uint16(val[0]&7) << 13
			k.VlanTCI |= 0xe000
		case openflow.OXMIPDSCP:
			v.NwTos |= val[0] << 2
			k.NwTos |= 0xfc
		case openflow.OXMIPECN:
			v.NwTos |= val[0] & 3
			k.NwTos |= 3
		case openflow.OXMIPProto:
			v.NwProto, k.NwProto = val[0], 0xff
		case openflow.OXMIPv4Src, openflow.OXMARPSPA:
			v.NwSrc, k.NwSrc = be32(val), be32(msk)
		case openflow.OXMIPv4Dst, openflow.OXMARPTPA:
			v.NwDst, k.NwDst = be32(val), be32(msk)
		case openflow.OXMTCPSrc, openflow.OXMUDPSrc, openflow.OXMSCTPSrc:
			v.TpSrc, k.TpSrc = be16(val), 0xffff
		case openflow.OXMTCPDst, openflow.OXMUDPDst, openflow.OXMSCTPDst:
			v.TpDst, k.TpDst = be16(val), 0xffff
		case openflow.OXMICMPv4Type, openflow.OXMICMPv6Type:
			v.TpSrc, k.TpSrc = uint16(val[0]), 0xffff
		case openflow.OXMICMPv4Code, openflow.OXMICMPv6Code:
			v.TpDst, k.TpDst = uint16(val[0]), 0xffff
		case openflow.OXMARPOp:
			op := be16(val)
			if op > 0xff {
				// The datapath keeps the opcode's low byte, as OVS does;
				// ARP has no opcodes above 255 in use.
				return fm, openflow.Errorf(openflow.BMCBadValue, "arp_op %d is not supported", op)
			}
			v.NwProto, k.NwProto = uint8(op), 0xff
		case openflow.OXMARPSHA, openflow.OXMIPv6NDSLL:
			copy(v.ArpSHA[:], val)
			copy(k.ArpSHA[:], msk)
		case openflow.OXMARPTHA, openflow.OXMIPv6NDTLL:
			copy(v.ArpTHA[:], val)
			copy(k.ArpTHA[:], msk)
		case openflow.OXMIPv6Src:
			copy(v.IPv6Src[:], val)
			copy(k.IPv6Src[:], msk)
		case openflow.OXMIPv6Dst:
			copy(v.IPv6Dst[:], val)
			copy(k.IPv6Dst[:], msk)
		case openflow.OXMIPv6FLabel:
			v.IPv6Label, k.IPv6Label = be32(val), be32(msk)&0xfffff
		case openflow.OXMIPv6NDTarget:
			copy(v.NDTarget[:], val)
			copy(k.NDTarget[:], msk)
		case openflow.OXMMPLSLabel:
			v.MPLSLSE |= be32(val) << 12
			k.MPLSLSE |= 0xfffff000
		case openflow.OXMMPLSTC:
			v.MPLSLSE |= uint32(val[0]&7) << 9
			k.MPLSLSE |= 0xe00
		case openflow.OXMMPLSBOS:
			v.MPLSLSE |= uint32(val[0]&1) << 8
			k.MPLSLSE |= 0x100
		case openflow.OXMPBBISID:
			v.PBBISID, k.PBBISID = be32(val)&0xffffff, be32(msk)&0xffffff
		case openflow.OXMIPv6ExtHdr:
			v.IPv6ExtHdr, k.IPv6ExtHdr = be16(val)&0x1ff, be16(msk)&0x1ff
		case openflow.OXMTunnelID:
			v.TunID, k.TunID = binary.BigEndian.Uint64(val), binary.BigEndian.Uint64(msk)
		default:
			if isTunIPv4Field(o.Field) {
				if err := compileTunIPv4(o, &fm); err != nil {
					return fm, err
				}
				continue
			}
			if isCTReply(o) {
				if err := compileCTReply(o, &fm); err != nil {
					return fm, err
				}
				continue
			}
			if id, ok := o.FilterProgID(); ok {
				if id == 0 {
					return fm, openflow.Errorf(openflow.BMCBadValue, "filter_prog=0 is not a program")
				}
				fm.filterID = id
				continue
			}
			return fm, openflow.Errorf(openflow.BMCBadField, "matching on %v is not supported", o.Field)
		}
	}
	// A value bit outside its mask can never be compared; drop it so that
	// identical matches compile identically.
	fm.value.And(&fm.value, fm.mask)
	fm.md &= fm.mdMask
	return fm, nil
}

// matches reports whether a packet key and pipeline metadata match.
func (fm *flowMatch) matches(key *datapath.FlowKey, md uint64) bool {
	if md&fm.mdMask != fm.md {
		return false
	}
	kw, vw, mw := key.Words(), fm.value.Words(), fm.mask.Words()
	for i := range kw {
		if kw[i]&mw[i] != vw[i] {
			return false
		}
	}
	return true
}

// covers reports whether every packet that matches other also matches fm,
// i.e. other is at least as specific on every field fm constrains. This is
// the non-strict selection of OpenFlow modify and delete.
func (fm *flowMatch) covers(other *flowMatch) bool {
	if fm.filterID != 0 && fm.filterID != other.filterID {
		return false
	}
	if fm.ct && (!other.ct || other.ctZone != fm.ctZone) {
		return false
	}
	if fm.mdMask&^other.mdMask != 0 || other.md&fm.mdMask != fm.md {
		return false
	}
	vw, mw := fm.value.Words(), fm.mask.Words()
	ow, omw := other.value.Words(), other.mask.Words()
	for i := range vw {
		if mw[i]&^omw[i] != 0 || ow[i]&mw[i] != vw[i] {
			return false
		}
	}
	return true
}

// overlaps reports whether some packet could match both.
func (fm *flowMatch) overlaps(other *flowMatch) bool {
	if (fm.md^other.md)&fm.mdMask&other.mdMask != 0 {
		return false
	}
	vw, mw := fm.value.Words(), fm.mask.Words()
	ow, omw := other.value.Words(), other.mask.Words()
	for i := range vw {
		if (vw[i]^ow[i])&mw[i]&omw[i] != 0 {
			return false
		}
	}
	return true
}

// equal reports whether two matches select exactly the same packets.
func (fm *flowMatch) equal(other *flowMatch) bool {
	if fm.filterID != other.filterID || fm.ct != other.ct || fm.ctZone != other.ctZone {
		return false
	}
	return fm.value == other.value && *fm.mask == *other.mask && fm.md == other.md && fm.mdMask == other.mdMask
}

// wildcardsAll reports whether fm matches every packet.
func (fm *flowMatch) wildcardsAll() bool {
	return *fm.mask == datapath.FlowKey{} && fm.mdMask == 0 && fm.filterID == 0 && !fm.ct
}

func ones(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xff
	}
	return b
}

// be16 and be32 read a big-endian value of at most that width.
func be16(b []byte) uint16 { return uint16(beUint(b)) }
func be32(b []byte) uint32 { return uint32(beUint(b)) }

func beUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}
