package openflow

// Match layout (ofp_match, OpenFlow 1.3 section 7.2.2):
//
//	type   uint16  OFPMT_OXM (1); OFPMT_STANDARD (0) is rejected
//	length uint16  4 + size of the OXM TLVs, padding excluded
//	OXM TLVs
//	zero padding to a multiple of 8
//
// An empty match is 8 bytes on the wire: type, length=4, 4 bytes of pad.

// Match types (enum ofp_match_type).
const (
	MatchTypeStandard uint16 = 0 // OFPMT_STANDARD (deprecated, rejected)
	MatchTypeOXM      uint16 = 1 // OFPMT_OXM
)

// Match is an OXM match: an ordered list of OXM TLVs. A decoded match has
// passed the checks of [Match.Validate] except prerequisites.
type Match struct {
	Fields []OXM
}

// NewMatch returns a match with the given fields.
func NewMatch(fields ...OXM) Match { return Match{Fields: fields} }

// Field returns the first OXM of field f (of any class but experimenter;
// use [Match.ExperimenterField] for those), or nil.
func (m *Match) Field(f Field) *OXM {
	for i := range m.Fields {
		if m.Fields[i].Field == f {
			return &m.Fields[i]
		}
	}
	return nil
}

// ExperimenterField returns the first experimenter OXM with experimenter
// id exp and field number num, or nil.
func (m *Match) ExperimenterField(exp uint32, num uint8) *OXM {
	f := MakeField(OXMClassExperimenter, num)
	for i := range m.Fields {
		if m.Fields[i].Field == f && m.Fields[i].Experimenter == exp {
			return &m.Fields[i]
		}
	}
	return nil
}

// Add appends fields to the match.
func (m *Match) Add(fields ...OXM) { m.Fields = append(m.Fields, fields...) }

// Len returns the ofp_match length field (without padding).
func (m *Match) Len() int {
	n := 4
	for i := range m.Fields {
		n += m.Fields[i].wireLen()
	}
	return n
}

// appendTo appends the padded ofp_match.
func (m *Match) appendTo(b []byte) ([]byte, error) {
	start := len(b)
	n := m.Len()
	if n > MaxMessageLen {
		return b, errf(BMCBadLen, "match length %d", n)
	}
	b = put16(b, MatchTypeOXM)
	b = put16(b, uint16(n))
	var err error
	for i := range m.Fields {
		if b, err = m.Fields[i].appendTo(b); err != nil {
			return b[:start], err
		}
	}
	return padTo8(b, start), nil
}

// MarshalBinary encodes m as a padded ofp_match, a compact form to keep
// (a switch holding a million matches keeps them this way).
func (m *Match) MarshalBinary() ([]byte, error) {
	return m.appendTo(make([]byte, 0, pad8(m.Len())))
}

// UnmarshalBinary decodes a padded ofp_match that MarshalBinary encoded,
// with the decoder's checks.
func (m *Match) UnmarshalBinary(b []byte) error {
	d, n, err := parseMatch(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return errf(BMCBadLen, "%d bytes after the match", len(b)-n)
	}
	*m = d
	return nil
}

// parseMatch decodes a padded ofp_match at the start of b and returns it
// with the number of bytes consumed (a multiple of 8).
func parseMatch(b []byte) (Match, int, error) {
	if len(b) < 4 {
		return Match{}, 0, errf(BMCBadLen, "truncated match header")
	}
	typ, n := u16(b, 0), int(u16(b, 2))
	if typ != MatchTypeOXM {
		return Match{}, 0, errf(BMCBadType, "match type %d", typ)
	}
	if n < 4 {
		return Match{}, 0, errf(BMCBadLen, "match length %d < 4", n)
	}
	if pad8(n) > len(b) {
		return Match{}, 0, errf(BMCBadLen, "match length %d (padded %d) exceeds %d available bytes", n, pad8(n), len(b))
	}
	var m Match
	var seen dupSet
	p := b[4:n]
	for len(p) > 0 {
		o, k, err := parseOXM(p, &matchOXMErrors)
		if err != nil {
			return Match{}, 0, err
		}
		if seen.add(&o) {
			return Match{}, 0, errf(BMCDupField, "duplicate field %v", o.Field)
		}
		m.Fields = append(m.Fields, o)
		p = p[k:]
	}
	return m, pad8(n), nil
}

// dupSet finds duplicate OXM fields: a bitmap for basic fields, a short
// list then a map for the others.
type dupSet struct {
	basic uint64
	other []OXM
	big   map[dupKey]struct{}
}

type dupKey = [2]uint32

// add records o and reports whether an equal field was already present.
func (s *dupSet) add(o *OXM) bool {
	if o.Field.Class() == OXMClassOpenFlowBasic && o.Field&0xffff < 64 {
		bit := uint64(1) << (o.Field & 0xffff)
		if s.basic&bit != 0 {
			return true
		}
		s.basic |= bit
		return false
	}
	k := dupKey{uint32(o.Field), o.Experimenter}
	if s.big != nil {
		if _, dup := s.big[k]; dup {
			return true
		}
		s.big[k] = struct{}{}
		return false
	}
	for i := range s.other {
		if s.other[i].Field == o.Field && s.other[i].Experimenter == o.Experimenter {
			return true
		}
	}
	s.other = append(s.other, *o)
	if len(s.other) > 16 {
		s.big = make(map[dupKey]struct{}, 2*len(s.other))
		for i := range s.other {
			s.big[dupKey{uint32(s.other[i].Field), s.other[i].Experimenter}] = struct{}{}
		}
	}
	return false
}

// Validate runs the checks the decoder applies to a received match:
// known basic fields, value lengths, masks only on maskable fields, values
// within the field width, no value bits outside the mask, no duplicates.
// It returns an *Error with an OFPBMC_* code.
func (m *Match) Validate() error {
	var buf [4 + 255]byte
	var seen dupSet
	for i := range m.Fields {
		b, err := m.Fields[i].appendTo(buf[:0])
		if err != nil {
			return err
		}
		o, _, err := parseOXM(b, &matchOXMErrors)
		if err != nil {
			return err
		}
		if seen.add(&o) {
			return errf(BMCDupField, "duplicate field %v", o.Field)
		}
	}
	return nil
}

// prereq is one prerequisite: field must be present, unmasked, and equal
// to one of values.
type prereq struct {
	field  Field
	values []uint64
}

var (
	preIP    = prereq{OXMEthType, []uint64{0x0800, 0x86dd}}
	preIPv4  = prereq{OXMEthType, []uint64{0x0800}}
	preIPv6  = prereq{OXMEthType, []uint64{0x86dd}}
	preARP   = prereq{OXMEthType, []uint64{0x0806}}
	preMPLS  = prereq{OXMEthType, []uint64{0x8847, 0x8848}}
	prePBB   = prereq{OXMEthType, []uint64{0x88e7}}
	preTCP   = prereq{OXMIPProto, []uint64{6}}
	preUDP   = prereq{OXMIPProto, []uint64{17}}
	preSCTP  = prereq{OXMIPProto, []uint64{132}}
	preICMP4 = prereq{OXMIPProto, []uint64{1}}
	preICMP6 = prereq{OXMIPProto, []uint64{58}}
)

// prereqs holds, per basic field number, its prerequisites (OpenFlow 1.3.5
// table 12), all of which must hold. VLAN_PCP and IN_PHY_PORT are
// special-cased. Table 12 lists only the nearest prerequisite, which
// would let ICMPv6 fields ride on eth_type=0x0800,ip_proto=58; the
// transport fields here also name their Ethertypes, so that ICMPv4 needs
// IPv4 and ICMPv6 (and ND) IPv6, as Open vSwitch and ofctl have it.
var prereqs = map[Field][]prereq{
	OXMIPDSCP: {preIP}, OXMIPECN: {preIP}, OXMIPProto: {preIP},
	OXMIPv4Src: {preIPv4}, OXMIPv4Dst: {preIPv4},
	OXMTCPSrc: {preIP, preTCP}, OXMTCPDst: {preIP, preTCP},
	OXMUDPSrc: {preIP, preUDP}, OXMUDPDst: {preIP, preUDP},
	OXMSCTPSrc: {preIP, preSCTP}, OXMSCTPDst: {preIP, preSCTP},
	OXMICMPv4Type: {preIPv4, preICMP4}, OXMICMPv4Code: {preIPv4, preICMP4},
	OXMARPOp: {preARP}, OXMARPSPA: {preARP}, OXMARPTPA: {preARP}, OXMARPSHA: {preARP}, OXMARPTHA: {preARP},
	OXMIPv6Src: {preIPv6}, OXMIPv6Dst: {preIPv6}, OXMIPv6FLabel: {preIPv6}, OXMIPv6ExtHdr: {preIPv6},
	OXMICMPv6Type: {preIPv6, preICMP6}, OXMICMPv6Code: {preIPv6, preICMP6},
	OXMIPv6NDTarget: {preIPv6, preICMP6, {OXMICMPv6Type, []uint64{135, 136}}},
	OXMIPv6NDSLL:    {preIPv6, preICMP6, {OXMICMPv6Type, []uint64{135}}},
	OXMIPv6NDTLL:    {preIPv6, preICMP6, {OXMICMPv6Type, []uint64{136}}},
	OXMMPLSLabel:    {preMPLS}, OXMMPLSTC: {preMPLS}, OXMMPLSBOS: {preMPLS},
	OXMPBBISID: {prePBB},
}

// CheckPrereqs checks the prerequisites of every basic field (e.g. tcp_dst
// needs ip_proto=6, which needs eth_type=0x0800 or 0x86dd). It returns an
// OFPBMC_BAD_PREREQ *Error naming the first field whose prerequisite is
// missing. Order of fields is not checked.
func (m *Match) CheckPrereqs() error {
	for i := range m.Fields {
		f := m.Fields[i].Field
		switch f {
		case OXMInPhyPort:
			if m.Field(OXMInPort) == nil {
				return errf(BMCBadPrereq, "in_phy_port requires in_port")
			}
			continue
		case OXMVlanPCP:
			v := m.Field(OXMVlanVID)
			if v == nil || v.Uint16()&VIDPresent == 0 || (v.Mask != nil && beUint(v.Mask)&uint64(VIDPresent) == 0) {
				return errf(BMCBadPrereq, "vlan_pcp requires vlan_vid != NONE")
			}
			continue
		}
		for _, p := range prereqs[f] {
			if !m.has(p) {
				return errf(BMCBadPrereq, "%v requires %v in %x", f, p.field, p.values)
			}
		}
	}
	return nil
}

func (m *Match) has(p prereq) bool {
	o := m.Field(p.field)
	if o == nil || o.Mask != nil {
		return false
	}
	v := o.Uint()
	for _, want := range p.values {
		if v == want {
			return true
		}
	}
	return false
}
