package openflow

import (
	"net/netip"
	"strconv"
)

// OXMClass is an OXM class (enum ofp_oxm_class).
type OXMClass uint16

// OXM classes.
const (
	OXMClassNXM0          OXMClass = 0x0000 // OFPXMC_NXM_0
	OXMClassNXM1          OXMClass = 0x0001 // OFPXMC_NXM_1
	OXMClassOpenFlowBasic OXMClass = 0x8000 // OFPXMC_OPENFLOW_BASIC
	OXMClassExperimenter  OXMClass = 0xffff // OFPXMC_EXPERIMENTER
)

// Field names an OXM field: its class in the upper 16 bits and its 7-bit
// field number in the lower bits. For the experimenter class the field is
// further qualified by OXM.Experimenter.
type Field uint32

// MakeField returns the Field for a class and field number.
func MakeField(class OXMClass, num uint8) Field {
	return Field(uint32(class)<<16 | uint32(num&0x7f))
}

// Class returns the OXM class.
func (f Field) Class() OXMClass { return OXMClass(f >> 16) }

// Num returns the 7-bit field number within the class.
func (f Field) Num() uint8 { return uint8(f) & 0x7f }

// OpenFlow basic match fields (enum oxm_ofb_match_fields), class 0x8000.
const (
	OXMInPort       Field = 0x80000000 + iota // OFPXMT_OFB_IN_PORT
	OXMInPhyPort                              // OFPXMT_OFB_IN_PHY_PORT
	OXMMetadata                               // OFPXMT_OFB_METADATA
	OXMEthDst                                 // OFPXMT_OFB_ETH_DST
	OXMEthSrc                                 // OFPXMT_OFB_ETH_SRC
	OXMEthType                                // OFPXMT_OFB_ETH_TYPE
	OXMVlanVID                                // OFPXMT_OFB_VLAN_VID
	OXMVlanPCP                                // OFPXMT_OFB_VLAN_PCP
	OXMIPDSCP                                 // OFPXMT_OFB_IP_DSCP
	OXMIPECN                                  // OFPXMT_OFB_IP_ECN
	OXMIPProto                                // OFPXMT_OFB_IP_PROTO
	OXMIPv4Src                                // OFPXMT_OFB_IPV4_SRC
	OXMIPv4Dst                                // OFPXMT_OFB_IPV4_DST
	OXMTCPSrc                                 // OFPXMT_OFB_TCP_SRC
	OXMTCPDst                                 // OFPXMT_OFB_TCP_DST
	OXMUDPSrc                                 // OFPXMT_OFB_UDP_SRC
	OXMUDPDst                                 // OFPXMT_OFB_UDP_DST
	OXMSCTPSrc                                // OFPXMT_OFB_SCTP_SRC
	OXMSCTPDst                                // OFPXMT_OFB_SCTP_DST
	OXMICMPv4Type                             // OFPXMT_OFB_ICMPV4_TYPE
	OXMICMPv4Code                             // OFPXMT_OFB_ICMPV4_CODE
	OXMARPOp                                  // OFPXMT_OFB_ARP_OP
	OXMARPSPA                                 // OFPXMT_OFB_ARP_SPA
	OXMARPTPA                                 // OFPXMT_OFB_ARP_TPA
	OXMARPSHA                                 // OFPXMT_OFB_ARP_SHA
	OXMARPTHA                                 // OFPXMT_OFB_ARP_THA
	OXMIPv6Src                                // OFPXMT_OFB_IPV6_SRC
	OXMIPv6Dst                                // OFPXMT_OFB_IPV6_DST
	OXMIPv6FLabel                             // OFPXMT_OFB_IPV6_FLABEL
	OXMICMPv6Type                             // OFPXMT_OFB_ICMPV6_TYPE
	OXMICMPv6Code                             // OFPXMT_OFB_ICMPV6_CODE
	OXMIPv6NDTarget                           // OFPXMT_OFB_IPV6_ND_TARGET
	OXMIPv6NDSLL                              // OFPXMT_OFB_IPV6_ND_SLL
	OXMIPv6NDTLL                              // OFPXMT_OFB_IPV6_ND_TLL
	OXMMPLSLabel                              // OFPXMT_OFB_MPLS_LABEL
	OXMMPLSTC                                 // OFPXMT_OFB_MPLS_TC
	OXMMPLSBOS                                // OFPXMT_OFB_MPLS_BOS
	OXMPBBISID                                // OFPXMT_OFB_PBB_ISID
	OXMTunnelID                               // OFPXMT_OFB_TUNNEL_ID
	OXMIPv6ExtHdr                             // OFPXMT_OFB_IPV6_EXTHDR
)

// fieldInfo describes one OpenFlow basic field.
type fieldInfo struct {
	name     string
	size     uint8 // value length in bytes
	bits     uint8 // significant bits of the value (<= 8*size)
	maskable bool
}

// basicFields is indexed by the field number of class OPENFLOW_BASIC
// (OpenFlow 1.3.5, table 12).
var basicFields = [...]fieldInfo{
	{"in_port", 4, 32, false},
	{"in_phy_port", 4, 32, false},
	{"metadata", 8, 64, true},
	{"eth_dst", 6, 48, true},
	{"eth_src", 6, 48, true},
	{"eth_type", 2, 16, false},
	{"vlan_vid", 2, 13, true},
	{"vlan_pcp", 1, 3, false},
	{"ip_dscp", 1, 6, false},
	{"ip_ecn", 1, 2, false},
	{"ip_proto", 1, 8, false},
	{"ipv4_src", 4, 32, true},
	{"ipv4_dst", 4, 32, true},
	{"tcp_src", 2, 16, false},
	{"tcp_dst", 2, 16, false},
	{"udp_src", 2, 16, false},
	{"udp_dst", 2, 16, false},
	{"sctp_src", 2, 16, false},
	{"sctp_dst", 2, 16, false},
	{"icmpv4_type", 1, 8, false},
	{"icmpv4_code", 1, 8, false},
	{"arp_op", 2, 16, false},
	{"arp_spa", 4, 32, true},
	{"arp_tpa", 4, 32, true},
	{"arp_sha", 6, 48, true},
	{"arp_tha", 6, 48, true},
	{"ipv6_src", 16, 128, true},
	{"ipv6_dst", 16, 128, true},
	{"ipv6_flabel", 4, 20, true},
	{"icmpv6_type", 1, 8, false},
	{"icmpv6_code", 1, 8, false},
	{"ipv6_nd_target", 16, 128, false},
	{"ipv6_nd_sll", 6, 48, false},
	{"ipv6_nd_tll", 6, 48, false},
	{"mpls_label", 4, 20, false},
	{"mpls_tc", 1, 3, false},
	{"mpls_bos", 1, 1, false},
	{"pbb_isid", 3, 24, true},
	{"tunnel_id", 8, 64, true},
	{"ipv6_exthdr", 2, 9, true},
}

// BasicFields returns every OpenFlow basic field this package knows, in
// field-number order.
func BasicFields() []Field {
	fs := make([]Field, len(basicFields))
	for i := range basicFields {
		fs[i] = MakeField(OXMClassOpenFlowBasic, uint8(i))
	}
	return fs
}

func (f Field) info() (*fieldInfo, bool) {
	if f.Class() != OXMClassOpenFlowBasic || int(f&0xffff) >= len(basicFields) {
		return nil, false
	}
	return &basicFields[f.Num()], true
}

// Known reports whether f is a standard OpenFlow 1.3 basic field.
func (f Field) Known() bool { _, ok := f.info(); return ok }

// Size returns the value length in bytes of a known basic field, or 0.
func (f Field) Size() int {
	if fi, ok := f.info(); ok {
		return int(fi.size)
	}
	return 0
}

// Maskable reports whether the spec allows a mask on basic field f.
func (f Field) Maskable() bool {
	fi, ok := f.info()
	return ok && fi.maskable
}

// String returns "in_port", "eth_dst", ... for basic fields and
// "oxm(class,num)" otherwise.
func (f Field) String() string {
	if fi, ok := f.info(); ok {
		return fi.name
	}
	return "oxm(0x" + strconv.FormatUint(uint64(f.Class()), 16) + "," + strconv.Itoa(int(f.Num())) + ")"
}

// OXM is one OXM TLV: a match field with its value and optional mask.
//
// Value and Mask hold the field in network byte order. Mask is nil when the
// TLV has no mask (hasmask=0). For the experimenter class (0xFFFF),
// Experimenter holds the 4-byte experimenter id that follows the OXM
// header, and Value/Mask hold the rest of the payload (split in two equal
// halves when masked).
type OXM struct {
	Field        Field
	Experimenter uint32 // only for OXMClassExperimenter
	Value        []byte
	Mask         []byte // nil: no mask
}

// HasMask reports whether the OXM carries a mask.
func (o OXM) HasMask() bool { return o.Mask != nil }

// payloadLen is the oxm_length of the TLV.
func (o OXM) payloadLen() int {
	n := len(o.Value) + len(o.Mask)
	if o.Field.Class() == OXMClassExperimenter {
		n += 4
	}
	return n
}

// wireLen is the encoded size of the TLV, header included.
func (o OXM) wireLen() int { return 4 + o.payloadLen() }

// Header returns the 32-bit OXM header (class, field, hasmask, length).
func (o OXM) Header() uint32 {
	h := uint32(o.Field.Class())<<16 | uint32(o.Field.Num())<<9 | uint32(o.payloadLen()&0xff)
	if o.Mask != nil {
		h |= 1 << 8
	}
	return h
}

func (o OXM) appendTo(b []byte) ([]byte, error) {
	if o.payloadLen() > 255 {
		return b, errf(BMCBadLen, "OXM %v payload %d > 255 bytes", o.Field, o.payloadLen())
	}
	if o.Mask != nil && len(o.Mask) != len(o.Value) {
		return b, errf(BMCBadLen, "OXM %v mask length %d != value length %d", o.Field, len(o.Mask), len(o.Value))
	}
	b = put32(b, o.Header())
	if o.Field.Class() == OXMClassExperimenter {
		b = put32(b, o.Experimenter)
	}
	b = append(b, o.Value...)
	return append(b, o.Mask...), nil
}

// oxmErrors maps the ways an OXM can be wrong to error codes; it differs
// between matches (OFPBMC_*) and set-field actions (OFPBAC_*).
type oxmErrors struct {
	badLen, badField, badMask, badValue, badWildcards ErrorCode
}

var matchOXMErrors = oxmErrors{BMCBadLen, BMCBadField, BMCBadMask, BMCBadValue, BMCBadWildcards}
var setFieldOXMErrors = oxmErrors{BACBadSetLen, BACBadSetType, BACBadSetArgument, BACBadSetArgument, BACBadSetArgument}

// parseOXM decodes one OXM TLV at the start of b and returns it with its
// encoded length. Standard fields are checked for length, mask and value;
// other classes are kept opaque.
func parseOXM(b []byte, e *oxmErrors) (OXM, int, error) {
	if len(b) < 4 {
		return OXM{}, 0, errf(e.badLen, "truncated OXM header (%d bytes)", len(b))
	}
	h := u32(b, 0)
	class := OXMClass(h >> 16)
	hasMask := h&(1<<8) != 0
	n := int(h & 0xff)
	if len(b) < 4+n {
		return OXM{}, 0, errf(e.badLen, "OXM length %d exceeds %d remaining bytes", n, len(b)-4)
	}
	o := OXM{Field: MakeField(class, uint8(h>>9))}
	p := b[4 : 4+n]
	if class == OXMClassExperimenter {
		if n < 4 {
			return OXM{}, 0, errf(e.badLen, "experimenter OXM length %d < 4", n)
		}
		o.Experimenter = u32(p, 0)
		p = p[4:]
	}
	if hasMask {
		if len(p)%2 != 0 {
			return OXM{}, 0, errf(e.badLen, "masked OXM %v has odd payload length %d", o.Field, len(p))
		}
		half := len(p) / 2
		o.Value, o.Mask = p[:half:half], p[half:]
	} else {
		o.Value = p
	}
	if class == OXMClassOpenFlowBasic {
		fi, ok := o.Field.info()
		if !ok {
			return OXM{}, 0, errf(e.badField, "unknown field %d", o.Field.Num())
		}
		if len(o.Value) != int(fi.size) || (hasMask && len(p) != 2*int(fi.size)) {
			return OXM{}, 0, errf(e.badLen, "%s: OXM length %d for a %d-byte field (hasmask=%v)", fi.name, n, fi.size, hasMask)
		}
		if hasMask && !fi.maskable {
			return OXM{}, 0, errf(e.badMask, "%s is not maskable", fi.name)
		}
		if !fitsBits(o.Value, fi.bits) {
			return OXM{}, 0, errf(e.badValue, "%s: value has bits beyond its %d-bit width", fi.name, fi.bits)
		}
	}
	if hasMask {
		for i := range o.Value {
			if o.Value[i]&^o.Mask[i] != 0 {
				return OXM{}, 0, errf(e.badWildcards, "%v: value has bits set outside the mask", o.Field)
			}
		}
	}
	return o, 4 + n, nil
}

// fitsBits reports whether the big-endian value v uses at most bits bits.
func fitsBits(v []byte, bits uint8) bool {
	extra := len(v)*8 - int(bits)
	for i := 0; extra > 0 && i < len(v); i++ {
		if extra >= 8 {
			if v[i] != 0 {
				return false
			}
			extra -= 8
			continue
		}
		if v[i]>>(8-extra) != 0 {
			return false
		}
		extra = 0
	}
	return true
}

// beUint reads up to the last 8 bytes of b as a big-endian integer.
func beUint(b []byte) uint64 {
	if len(b) > 8 {
		b = b[len(b)-8:]
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// Uint returns the value as a big-endian unsigned integer (the last 8
// bytes for longer values).
func (o OXM) Uint() uint64 { return beUint(o.Value) }

// MaskUint returns the mask as a big-endian unsigned integer, or all ones
// of the value's width when there is no mask.
func (o OXM) MaskUint() uint64 {
	if o.Mask == nil {
		if len(o.Value) >= 8 {
			return ^uint64(0)
		}
		return 1<<(8*len(o.Value)) - 1
	}
	return beUint(o.Mask)
}

// Uint8 returns the value as a uint8.
func (o OXM) Uint8() uint8 { return uint8(beUint(o.Value)) }

// Uint16 returns the value as a uint16.
func (o OXM) Uint16() uint16 { return uint16(beUint(o.Value)) }

// Uint32 returns the value as a uint32.
func (o OXM) Uint32() uint32 { return uint32(beUint(o.Value)) }

// Uint64 returns the value as a uint64.
func (o OXM) Uint64() uint64 { return beUint(o.Value) }

// MAC returns a 6-byte value (and mask, all ones when absent) as arrays.
func (o OXM) MAC() (value, mask [6]byte) {
	copy(value[:], o.Value)
	if o.Mask == nil {
		mask = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	} else {
		copy(mask[:], o.Mask)
	}
	return
}

// Addr returns a 4- or 16-byte value as an IP address (invalid otherwise).
func (o OXM) Addr() netip.Addr {
	a, _ := netip.AddrFromSlice(o.Value)
	return a
}

// NewOXM returns an unmasked OXM for f. value is not copied.
func NewOXM(f Field, value []byte) OXM { return OXM{Field: f, Value: value} }

// NewOXMMasked returns a masked OXM for f. Neither slice is copied.
func NewOXMMasked(f Field, value, mask []byte) OXM {
	return OXM{Field: f, Value: value, Mask: mask}
}

// NewExperimenterOXM returns an OXM of class 0xFFFF for field number num of
// experimenter exp. mask may be nil.
func NewExperimenterOXM(exp uint32, num uint8, value, mask []byte) OXM {
	return OXM{Field: MakeField(OXMClassExperimenter, num), Experimenter: exp, Value: value, Mask: mask}
}

// OXMUint returns an unmasked OXM for a known basic field f holding v in
// the field's width (e.g. 2 bytes for tcp_dst, 3 for pbb_isid).
func OXMUint(f Field, v uint64) OXM {
	n := f.Size()
	if n == 0 || n > 8 {
		n = 8
	}
	return OXM{Field: f, Value: uintBytes(v, n)}
}

// OXMUintMasked returns a masked OXM for a known basic field f.
func OXMUintMasked(f Field, v, mask uint64) OXM {
	n := f.Size()
	if n == 0 || n > 8 {
		n = 8
	}
	return OXM{Field: f, Value: uintBytes(v&mask, n), Mask: uintBytes(mask, n)}
}

func uintBytes(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// OXMInPortVal returns in_port=port.
func OXMInPortVal(port uint32) OXM { return OXMUint(OXMInPort, uint64(port)) }

// OXMEthTypeVal returns eth_type=t.
func OXMEthTypeVal(t uint16) OXM { return OXMUint(OXMEthType, uint64(t)) }

// OXMIPProtoVal returns ip_proto=p.
func OXMIPProtoVal(p uint8) OXM { return OXMUint(OXMIPProto, uint64(p)) }

// OXMVlanVIDVal returns vlan_vid=vid (include VIDPresent for a tagged match).
func OXMVlanVIDVal(vid uint16) OXM { return OXMUint(OXMVlanVID, uint64(vid)) }

// OXMMetadataVal returns metadata=v/mask (mask all ones: unmasked).
func OXMMetadataVal(v, mask uint64) OXM {
	if mask == ^uint64(0) {
		return OXMUint(OXMMetadata, v)
	}
	return OXMUintMasked(OXMMetadata, v, mask)
}

// OXMMACVal returns an eth/arp address field (eth_dst, eth_src, arp_sha,
// ...) equal to mac, masked unless mask is nil.
func OXMMACVal(f Field, mac [6]byte, mask *[6]byte) OXM {
	o := OXM{Field: f, Value: append([]byte(nil), mac[:]...)}
	if mask != nil {
		o.Mask = append([]byte(nil), mask[:]...)
		for i := range o.Value {
			o.Value[i] &= o.Mask[i]
		}
	}
	return o
}

// OXMAddrVal returns an IPv4 or IPv6 address field (ipv4_src, arp_tpa,
// ipv6_dst, ...) matching prefix p; a full-length prefix is unmasked.
func OXMAddrVal(f Field, p netip.Prefix) OXM {
	a := p.Masked().Addr()
	o := OXM{Field: f, Value: a.AsSlice()}
	if p.Bits() >= 0 && p.Bits() < a.BitLen() {
		m := make([]byte, len(o.Value))
		for i := 0; i < p.Bits(); i++ {
			m[i/8] |= 0x80 >> (i % 8)
		}
		o.Mask = m
	}
	return o
}

// OXMPortVal returns a transport port field (tcp_src, udp_dst, ...) = port.
func OXMPortVal(f Field, port uint16) OXM { return OXMUint(f, uint64(port)) }
