package openflow

// goko's OpenFlow extensions: filter programs and their maps.
//
// Everything travels under goko's own experimenter id, GokoExperimenter,
// through the standard OpenFlow 1.3 extension points, so that a switch or
// controller that does not know goko sees well-formed experimenter
// messages and nothing else. docs/openflow-extensions.md is the reference
// for other implementations; this file is its Go form.
//
//   - filter_prog is an experimenter OXM (class 0xFFFF, field 1, 4-byte
//     value: the program id). A flow with filter_prog=N matches a packet
//     when program N returns "match" for it.
//   - Loading, unloading and map access are OFPT_EXPERIMENTER messages with
//     the exp_types below. Dumping programs and maps are OFPMP_EXPERIMENTER
//     multipart requests.
//   - send_maps is an experimenter action; the maps arrive asynchronously
//     as GokoMapContents experimenter messages.
//   - Failures are OFPET_EXPERIMENTER errors with GokoExperimenter and one
//     of the GokoErr* codes; their data is a UTF-8 reason.
//
// Integers are big-endian. Strings are length-prefixed, not NUL-terminated.
// Variable parts are padded with zeros to a multiple of 8 bytes as noted.

import (
	"fmt"
	"net/netip"
)

// GokoExperimenter is goko's experimenter id: "\x00GKO".
const GokoExperimenter uint32 = 0x00474b4f

// GokoFieldFilterProg is the experimenter OXM field number of filter_prog.
const GokoFieldFilterProg uint8 = 1

// OXMFilterProg returns the filter_prog=id match field.
func OXMFilterProg(id uint32) OXM {
	return NewExperimenterOXM(GokoExperimenter, GokoFieldFilterProg, put32(nil, id), nil)
}

// FilterProgID returns the program id of a filter_prog OXM, and whether o
// is one.
func (o OXM) FilterProgID() (uint32, bool) {
	if o.Field != MakeField(OXMClassExperimenter, GokoFieldFilterProg) || o.Experimenter != GokoExperimenter ||
		len(o.Value) != 4 || o.Mask != nil {
		return 0, false
	}
	return u32(o.Value, 0), true
}

// goko experimenter message types (ofp_experimenter_header.exp_type).
const (
	GokoLoadFilterProg   uint32 = 1 // controller to switch: GokoLoadFilterProgMsg
	GokoUnloadFilterProg uint32 = 2 // controller to switch: GokoProgRef
	GokoFilterProgLoaded uint32 = 3 // switch to controller, the reply to the last chunk of a load
	GokoUpdateMap        uint32 = 4 // controller to switch: GokoMapUpdate
	GokoDeleteMapEntry   uint32 = 5 // controller to switch: GokoMapUpdate without value
	GokoMapContents      uint32 = 6 // switch to controller, asynchronous (send_maps): GokoMapDump
)

// goko multipart experimenter types (OFPMP_EXPERIMENTER exp_type).
const (
	GokoMPFilterProgs uint32 = 1 // request GokoProgRef (GokoAllProgs for all); reply GokoFilterProgList
	GokoMPMap         uint32 = 2 // request GokoMapRef; reply GokoMapDump
)

// GokoAllProgs selects every program in GokoMPFilterProgs requests.
const GokoAllProgs uint32 = 0xffffffff

// GokoActionSendMaps is the experimenter action subtype of send_maps.
const GokoActionSendMaps uint16 = 1

// goko experimenter error codes (exp_code of OFPET_EXPERIMENTER errors).
const (
	GokoErrBadRequest     uint16 = 1  // malformed goko message
	GokoErrBadELF         uint16 = 2  // the object is not an ELF eBPF object goko can load
	GokoErrVerifier       uint16 = 3  // the verifier rejected the program; data holds its log
	GokoErrUnknownProg    uint16 = 4  // no program with that id
	GokoErrProgInUse      uint16 = 5  // flows still match on the program
	GokoErrUnknownMap     uint16 = 6  // the program has no map of that name
	GokoErrBadKey         uint16 = 7  // key of the wrong size
	GokoErrBadValue       uint16 = 8  // value of the wrong size
	GokoErrNoEntry        uint16 = 9  // no such key
	GokoErrExists         uint16 = 10 // the key exists (update with GokoMapNoExist)
	GokoErrMapFull        uint16 = 11 // the map is full
	GokoErrBadChunk       uint16 = 12 // a load chunk out of sequence, or the object too large
	GokoErrUnsupported    uint16 = 13 // the operation does not apply to this map type
	GokoErrProgsExhausted uint16 = 14 // too many programs loaded
)

// GokoError returns an OFPET_EXPERIMENTER error message with goko's id.
func GokoError(code uint16, format string, args ...any) *ErrorMsg {
	return &ErrorMsg{Code: MakeErrorCode(ETExperimenter, code), Experimenter: GokoExperimenter,
		Data: []byte(fmt.Sprintf(format, args...))}
}

// GokoErrorName names a goko experimenter error code.
func GokoErrorName(code uint16) string {
	names := [...]string{"", "BAD_REQUEST", "BAD_ELF", "VERIFIER", "UNKNOWN_PROG", "PROG_IN_USE",
		"UNKNOWN_MAP", "BAD_KEY", "BAD_VALUE", "NO_ENTRY", "EXISTS", "MAP_FULL", "BAD_CHUNK",
		"UNSUPPORTED", "PROGS_EXHAUSTED"}
	if int(code) < len(names) && code != 0 {
		return "GOKO_" + names[code]
	}
	return fmt.Sprintf("GOKO_ERR_%d", code)
}

// GokoLoadMore is set in GokoLoadFilterProgMsg.Flags on every chunk but the
// last of an object too large for one message.
const GokoLoadMore uint16 = 1

// GokoLoadRunBudget is set in GokoLoadFilterProgMsg.Flags when the chunk
// carries the program's run budget (instructions per run) in the 8 bytes
// after the name. The switch reads it from the first chunk.
const GokoLoadRunBudget uint16 = 2

// GokoLoadFilterProgMsg loads (or atomically replaces) program ProgID from
// an ELF object, sent in chunks at increasing offsets.
//
//	prog_id u32 | flags u16 | name_len u16 | total_len u32 | offset u32
//	name (name_len bytes, zero-padded to 8)
//	[run_budget u64, with flag GokoLoadRunBudget] | data (the rest)
//
// name selects the program by function or section name; empty means the
// object's first program. total_len is the whole object's size; offset is
// this chunk's position in it. run_budget (0: the switch's default) bounds
// the instructions one run of the program may execute.
type GokoLoadFilterProgMsg struct {
	ProgID    uint32
	Flags     uint16
	Name      string
	TotalLen  uint32
	Offset    uint32
	RunBudget uint64 // encoded (and GokoLoadRunBudget set) when not zero
	Data      []byte
}

// GokoProgRef names a program (unload, dump requests).
//
//	prog_id u32 | pad 4
type GokoProgRef struct{ ProgID uint32 }

// GokoMapRef names a map of a program.
//
//	prog_id u32 | name_len u16 | pad 2 | name (zero-padded to 8)
type GokoMapRef struct {
	ProgID uint32
	Map    string
}

// Map update flags, as the kernel's BPF_ANY, BPF_NOEXIST and BPF_EXIST.
const (
	GokoMapAny     uint32 = 0
	GokoMapNoExist uint32 = 1
	GokoMapExist   uint32 = 2
)

// GokoMapUpdate writes or deletes one map entry.
//
//	prog_id u32 | flags u32 | name_len u16 | key_len u16 | value_len u32
//	name (zero-padded to 8) | key (zero-padded to 8) | value
type GokoMapUpdate struct {
	ProgID uint32
	Flags  uint32
	Map    string
	Key    []byte
	Value  []byte
}

// GokoMapEntry is one key/value pair of a map dump.
type GokoMapEntry struct{ Key, Value []byte }

// GokoMapDump is the contents (or one part of them) of a map.
//
//	prog_id u32 | name_len u16 | pad 2 | n_entries u32 | pad 4
//	name (zero-padded to 8)
//	n_entries times: key_len u16 | pad 2 | value_len u32 | key (padded to 8) | value (padded to 8)
type GokoMapDump struct {
	ProgID  uint32
	Map     string
	Entries []GokoMapEntry
}

// GokoMapInfo describes one map of a loaded program.
type GokoMapInfo struct {
	Name       string
	Type       string // "hash", "array", "lpm_trie", ...
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Entries    uint32 // current number of entries (max_entries for arrays)
}

// GokoFilterProgInfo describes a loaded program and its counters.
type GokoFilterProgInfo struct {
	ProgID    uint32
	Name      string
	InsnCount uint32
	Runs      uint64
	Matches   uint64
	Errors    uint64 // runs stopped by a run-time fault (counted as no match)
	RunNs     uint64 // total time spent running, in nanoseconds
	Maps      []GokoMapInfo
}

// GokoFilterProgList is the GokoMPFilterProgs reply and the
// GokoFilterProgLoaded message (one program).
//
//	n_progs u32 | pad 4, then per program:
//	prog_id u32 | insn_count u32 | runs u64 | matches u64 | errors u64 | run_ns u64
//	name_len u16 | n_maps u16 | pad 4 | name (padded to 8), then per map:
//	key_size u32 | value_size u32 | max_entries u32 | entries u32
//	name_len u16 | type_len u16 | pad 4 | name (padded to 8) | type (padded to 8)
type GokoFilterProgList struct{ Progs []GokoFilterProgInfo }

// Marshal encodes the message body.
func (m *GokoLoadFilterProgMsg) Marshal() []byte {
	b := put32(nil, m.ProgID)
	b = put16(b, m.Flags)
	b = put16(b, uint16(len(m.Name)))
	b = put32(b, m.TotalLen)
	b = put32(b, m.Offset)
	b = appendPadded(b, []byte(m.Name))
	if m.RunBudget != 0 {
		be.PutUint16(b[4:], m.Flags|GokoLoadRunBudget)
		b = put64(b, m.RunBudget)
	}
	return append(b, m.Data...)
}

// Unmarshal decodes the message body.
func (m *GokoLoadFilterProgMsg) Unmarshal(b []byte) error {
	r := gokoReader{b: b}
	m.ProgID, m.Flags = r.u32(), r.u16()
	n := int(r.u16())
	m.TotalLen, m.Offset = r.u32(), r.u32()
	m.Name = string(r.padded(n))
	m.RunBudget = 0
	if m.Flags&GokoLoadRunBudget != 0 {
		m.RunBudget = r.u64()
		m.Flags &^= GokoLoadRunBudget
	}
	m.Data = append([]byte(nil), r.rest()...)
	return r.err("load-filter-prog")
}

// Marshal encodes the body.
func (m *GokoProgRef) Marshal() []byte { return put32(put32(nil, m.ProgID), 0) }

// Unmarshal decodes the body.
func (m *GokoProgRef) Unmarshal(b []byte) error {
	r := gokoReader{b: b}
	m.ProgID = r.u32()
	r.skip(4)
	return r.err("program reference")
}

// Marshal encodes the body.
func (m *GokoMapRef) Marshal() []byte {
	b := put16(put32(nil, m.ProgID), uint16(len(m.Map)))
	return appendPadded(put16(b, 0), []byte(m.Map))
}

// Unmarshal decodes the body.
func (m *GokoMapRef) Unmarshal(b []byte) error {
	r := gokoReader{b: b}
	m.ProgID = r.u32()
	n := int(r.u16())
	r.skip(2)
	m.Map = string(r.padded(n))
	return r.err("map reference")
}

// Marshal encodes the body.
func (m *GokoMapUpdate) Marshal() []byte {
	b := put32(put32(nil, m.ProgID), m.Flags)
	b = put16(put16(b, uint16(len(m.Map))), uint16(len(m.Key)))
	b = put32(b, uint32(len(m.Value)))
	b = appendPadded(b, []byte(m.Map))
	b = appendPadded(b, m.Key)
	return append(b, m.Value...)
}

// Unmarshal decodes the body.
func (m *GokoMapUpdate) Unmarshal(b []byte) error {
	r := gokoReader{b: b}
	m.ProgID, m.Flags = r.u32(), r.u32()
	nn, kn := int(r.u16()), int(r.u16())
	vn := int(r.u32())
	m.Map = string(r.padded(nn))
	m.Key = append([]byte(nil), r.padded(kn)...)
	m.Value = append([]byte(nil), r.bytes(vn)...)
	return r.err("map update")
}

// Marshal encodes the body.
func (m *GokoMapDump) Marshal() []byte {
	b := put16(put32(nil, m.ProgID), uint16(len(m.Map)))
	b = put32(put32(put16(b, 0), uint32(len(m.Entries))), 0)
	b = appendPadded(b, []byte(m.Map))
	for _, e := range m.Entries {
		b = put32(put16(put16(b, uint16(len(e.Key))), 0), uint32(len(e.Value)))
		b = appendPadded(appendPadded(b, e.Key), e.Value)
	}
	return b
}

// Unmarshal decodes the body.
func (m *GokoMapDump) Unmarshal(b []byte) error {
	r := gokoReader{b: b}
	m.ProgID = r.u32()
	nn := int(r.u16())
	r.skip(2)
	n := int(r.u32())
	r.skip(4)
	m.Map = string(r.padded(nn))
	// Each entry takes at least 8 bytes: bound the count by the input so
	// a forged n_entries cannot make us allocate.
	if n > len(b)/8 {
		return Errorf(BRCBadLen, "map dump: %d entries in %d bytes", n, len(b))
	}
	m.Entries = make([]GokoMapEntry, 0, n)
	for i := 0; i < n && r.ok(); i++ {
		kn := int(r.u16())
		r.skip(2)
		vn := int(r.u32())
		k := append([]byte(nil), r.padded(kn)...)
		v := append([]byte(nil), r.padded(vn)...)
		m.Entries = append(m.Entries, GokoMapEntry{k, v})
	}
	return r.err("map dump")
}

// Marshal encodes the body.
func (m *GokoFilterProgList) Marshal() []byte {
	b := put32(put32(nil, uint32(len(m.Progs))), 0)
	for _, p := range m.Progs {
		b = put32(put32(b, p.ProgID), p.InsnCount)
		b = put64(put64(put64(put64(b, p.Runs), p.Matches), p.Errors), p.RunNs)
		b = put32(put16(put16(b, uint16(len(p.Name))), uint16(len(p.Maps))), 0)
		b = appendPadded(b, []byte(p.Name))
		for _, mp := range p.Maps {
			b = put32(put32(put32(put32(b, mp.KeySize), mp.ValueSize), mp.MaxEntries), mp.Entries)
			b = put32(put16(put16(b, uint16(len(mp.Name))), uint16(len(mp.Type))), 0)
			b = appendPadded(appendPadded(b, []byte(mp.Name)), []byte(mp.Type))
		}
	}
	return b
}

// Unmarshal decodes the body.
func (m *GokoFilterProgList) Unmarshal(b []byte) error {
	r := gokoReader{b: b}
	n := int(r.u32())
	r.skip(4)
	if n > len(b)/48 {
		return Errorf(BRCBadLen, "program list: %d programs in %d bytes", n, len(b))
	}
	m.Progs = make([]GokoFilterProgInfo, 0, n)
	for i := 0; i < n && r.ok(); i++ {
		var p GokoFilterProgInfo
		p.ProgID, p.InsnCount = r.u32(), r.u32()
		p.Runs, p.Matches, p.Errors, p.RunNs = r.u64(), r.u64(), r.u64(), r.u64()
		nn, nm := int(r.u16()), int(r.u16())
		r.skip(4)
		p.Name = string(r.padded(nn))
		if nm > len(b)/24 {
			return Errorf(BRCBadLen, "program list: %d maps in %d bytes", nm, len(b))
		}
		for j := 0; j < nm && r.ok(); j++ {
			var mp GokoMapInfo
			mp.KeySize, mp.ValueSize, mp.MaxEntries, mp.Entries = r.u32(), r.u32(), r.u32(), r.u32()
			ln, lt := int(r.u16()), int(r.u16())
			r.skip(4)
			mp.Name, mp.Type = string(r.padded(ln)), string(r.padded(lt))
			p.Maps = append(p.Maps, mp)
		}
		m.Progs = append(m.Progs, p)
	}
	return r.err("program list")
}

// GokoSendMaps is the send_maps action: send the contents of the named maps
// of program ProgID (all its maps if Maps is empty) to the controllers,
// asynchronously and rate-limited by the switch.
//
//	subtype u16 (GokoActionSendMaps) | n_maps u16 | prog_id u32
//	n_maps times: name_len u16 | name, all zero-padded so that the whole
//	action is a multiple of 8 bytes
type GokoSendMaps struct {
	ProgID uint32
	Maps   []string
}

// Action returns the experimenter action carrying s.
func (s *GokoSendMaps) Action() ActionExperimenter {
	b := put32(put16(put16(nil, GokoActionSendMaps), uint16(len(s.Maps))), s.ProgID)
	for _, m := range s.Maps {
		b = append(put16(b, uint16(len(m))), m...)
	}
	// The action header is 8 bytes (type, len, experimenter): pad the body
	// so the action length is a multiple of 8.
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return ActionExperimenter{Experimenter: GokoExperimenter, Data: b}
}

// ParseGokoSendMaps decodes a send_maps experimenter action.
func ParseGokoSendMaps(a ActionExperimenter) (*GokoSendMaps, error) {
	if a.Experimenter != GokoExperimenter {
		return nil, Errorf(BACBadExperimenter, "experimenter %#x is not goko's", a.Experimenter)
	}
	r := gokoReader{b: a.Data}
	if r.u16() != GokoActionSendMaps {
		return nil, Errorf(BACBadExpType, "unknown goko action subtype")
	}
	n := int(r.u16())
	s := &GokoSendMaps{ProgID: r.u32()}
	for i := 0; i < n && r.ok(); i++ {
		s.Maps = append(s.Maps, string(r.bytes(int(r.u16()))))
	}
	if !r.ok() {
		return nil, Errorf(BACBadLen, "send_maps action truncated")
	}
	return s, nil
}

func appendPadded(b, data []byte) []byte {
	b = append(b, data...)
	for i := len(data); i%8 != 0; i++ {
		b = append(b, 0)
	}
	return b
}

// gokoReader reads goko bodies; a read past the end sets a sticky error
// and returns zeros, so decoders stay straight-line.
type gokoReader struct {
	b   []byte
	off int
	bad bool
}

func (r *gokoReader) ok() bool { return !r.bad }

func (r *gokoReader) bytes(n int) []byte {
	if r.bad || n < 0 || r.off+n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *gokoReader) padded(n int) []byte {
	v := r.bytes(n)
	r.skip(pad8(n) - n)
	return v
}

func (r *gokoReader) skip(n int) { r.bytes(n) }

func (r *gokoReader) u16() uint16 {
	if v := r.bytes(2); v != nil {
		return u16(v, 0)
	}
	return 0
}

func (r *gokoReader) u32() uint32 {
	if v := r.bytes(4); v != nil {
		return u32(v, 0)
	}
	return 0
}

func (r *gokoReader) u64() uint64 {
	if v := r.bytes(8); v != nil {
		return u64(v, 0)
	}
	return 0
}

func (r *gokoReader) rest() []byte {
	if r.bad {
		return nil
	}
	v := r.b[r.off:]
	r.off = len(r.b)
	return v
}

func (r *gokoReader) err(what string) error {
	if r.bad {
		return Errorf(BRCBadLen, "goko %s: truncated body", what)
	}
	return nil
}

// Tenant-network fields and actions (see docs/openflow-extensions.md).

// NXM fields of the outer IPv4 addresses of a tunnel.
var (
	OXMTunIPv4Src = MakeField(OXMClassNXM1, 31) // NXM_NX_TUN_IPV4_SRC
	OXMTunIPv4Dst = MakeField(OXMClassNXM1, 32) // NXM_NX_TUN_IPV4_DST
)

// GokoFieldCTReply is the experimenter OXM field number of ct_reply.
const GokoFieldCTReply uint8 = 16

// GokoActionCTCommit is the goko experimenter action subtype of ct_commit.
const GokoActionCTCommit uint16 = 0x0100

// OXMTunIPv4 returns a match on (or, in set_field, a value for) tun_src or
// tun_dst: f is OXMTunIPv4Src or OXMTunIPv4Dst.
func OXMTunIPv4(f Field, a netip.Addr) OXM {
	return NewOXM(f, a.AsSlice())
}

// OXMCTReply returns the match field ct_reply=zone.
func OXMCTReply(zone uint32) OXM {
	return NewExperimenterOXM(GokoExperimenter, GokoFieldCTReply, be.AppendUint32(nil, zone), nil)
}

// GokoCTCommit returns the action ct_commit(zone).
func GokoCTCommit(zone uint32) ActionExperimenter {
	b := be.AppendUint16(nil, GokoActionCTCommit)
	b = append(b, 0, 0)
	b = be.AppendUint32(b, zone)
	return ActionExperimenter{Experimenter: GokoExperimenter, Data: b}
}

// ParseGokoCTCommit reports whether a is a ct_commit action and its zone.
func ParseGokoCTCommit(a ActionExperimenter) (zone uint32, ok bool) {
	if a.Experimenter != GokoExperimenter || len(a.Data) != 8 || be.Uint16(a.Data) != GokoActionCTCommit {
		return 0, false
	}
	return be.Uint32(a.Data[4:]), true
}

// CTReplyZone reports whether o is a ct_reply field and its zone.
func CTReplyZone(o *OXM) (zone uint32, ok bool) {
	if o.Field != MakeField(OXMClassExperimenter, GokoFieldCTReply) ||
		o.Experimenter != GokoExperimenter || len(o.Value) != 4 || o.Mask != nil {
		return 0, false
	}
	return be.Uint32(o.Value), true
}
