package openflow

import "strconv"

// Table features layout (ofp_table_features, 64 bytes, then properties):
//
//	length uint16, table_id uint8, pad[5], name[32],
//	metadata_match uint64, metadata_write uint64, config uint32,
//	max_entries uint32, properties...
//
// Each property is type (uint16), length (uint16, padding excluded), a
// payload, then zero padding to a multiple of 8. Instruction and action ids
// in properties are unpadded TLVs of at least 4 bytes (type, len, and for
// experimenter ids the experimenter id); OXM ids are 4-byte OXM headers,
// 8 bytes for the experimenter class.

// TableFeaturePropType is a table feature property type
// (enum ofp_table_feature_prop_type).
type TableFeaturePropType uint16

// Table feature property types.
const (
	TFPTInstructions      TableFeaturePropType = 0      // OFPTFPT_INSTRUCTIONS
	TFPTInstructionsMiss  TableFeaturePropType = 1      // OFPTFPT_INSTRUCTIONS_MISS
	TFPTNextTables        TableFeaturePropType = 2      // OFPTFPT_NEXT_TABLES
	TFPTNextTablesMiss    TableFeaturePropType = 3      // OFPTFPT_NEXT_TABLES_MISS
	TFPTWriteActions      TableFeaturePropType = 4      // OFPTFPT_WRITE_ACTIONS
	TFPTWriteActionsMiss  TableFeaturePropType = 5      // OFPTFPT_WRITE_ACTIONS_MISS
	TFPTApplyActions      TableFeaturePropType = 6      // OFPTFPT_APPLY_ACTIONS
	TFPTApplyActionsMiss  TableFeaturePropType = 7      // OFPTFPT_APPLY_ACTIONS_MISS
	TFPTMatch             TableFeaturePropType = 8      // OFPTFPT_MATCH
	TFPTWildcards         TableFeaturePropType = 10     // OFPTFPT_WILDCARDS
	TFPTWriteSetfield     TableFeaturePropType = 12     // OFPTFPT_WRITE_SETFIELD
	TFPTWriteSetfieldMiss TableFeaturePropType = 13     // OFPTFPT_WRITE_SETFIELD_MISS
	TFPTApplySetfield     TableFeaturePropType = 14     // OFPTFPT_APPLY_SETFIELD
	TFPTApplySetfieldMiss TableFeaturePropType = 15     // OFPTFPT_APPLY_SETFIELD_MISS
	TFPTExperimenter      TableFeaturePropType = 0xfffe // OFPTFPT_EXPERIMENTER
	TFPTExperimenterMiss  TableFeaturePropType = 0xffff // OFPTFPT_EXPERIMENTER_MISS
)

var tfptNames = map[TableFeaturePropType]string{
	TFPTInstructions: "OFPTFPT_INSTRUCTIONS", TFPTInstructionsMiss: "OFPTFPT_INSTRUCTIONS_MISS",
	TFPTNextTables: "OFPTFPT_NEXT_TABLES", TFPTNextTablesMiss: "OFPTFPT_NEXT_TABLES_MISS",
	TFPTWriteActions: "OFPTFPT_WRITE_ACTIONS", TFPTWriteActionsMiss: "OFPTFPT_WRITE_ACTIONS_MISS",
	TFPTApplyActions: "OFPTFPT_APPLY_ACTIONS", TFPTApplyActionsMiss: "OFPTFPT_APPLY_ACTIONS_MISS",
	TFPTMatch: "OFPTFPT_MATCH", TFPTWildcards: "OFPTFPT_WILDCARDS",
	TFPTWriteSetfield: "OFPTFPT_WRITE_SETFIELD", TFPTWriteSetfieldMiss: "OFPTFPT_WRITE_SETFIELD_MISS",
	TFPTApplySetfield: "OFPTFPT_APPLY_SETFIELD", TFPTApplySetfieldMiss: "OFPTFPT_APPLY_SETFIELD_MISS",
	TFPTExperimenter: "OFPTFPT_EXPERIMENTER", TFPTExperimenterMiss: "OFPTFPT_EXPERIMENTER_MISS",
}

// String returns the spec name, e.g. "OFPTFPT_MATCH".
func (t TableFeaturePropType) String() string {
	if s, ok := tfptNames[t]; ok {
		return s
	}
	return "OFPTFPT_" + strconv.Itoa(int(t))
}

// TableFeatures is ofp_table_features: one table's capabilities.
type TableFeatures struct {
	TableID       uint8
	Name          string // up to 32 bytes
	MetadataMatch uint64
	MetadataWrite uint64
	Config        TableConfig
	MaxEntries    uint32
	Properties    []TableFeatureProp
}

// TableFeatureProp is one table feature property. The concrete types are
// *TFPInstructions, *TFPNextTables, *TFPActions, *TFPOXM and
// *TFPExperimenter; each carries its property type (e.g. TFPTMatch and
// TFPTWildcards are both *TFPOXM).
type TableFeatureProp interface {
	// PropType returns the property's wire type.
	PropType() TableFeaturePropType
	appendPayload(b []byte) ([]byte, error)
}

// InstructionID names an instruction in a table feature property. Data is
// what follows the 4-byte type/len header (the experimenter id for
// experimenter instructions); it is usually nil.
type InstructionID struct {
	Type InstructionType
	Data []byte
}

// ActionID names an action in a table feature property. Data is what
// follows the 4-byte type/len header (the experimenter id for experimenter
// actions); it is usually nil.
type ActionID struct {
	Type ActionType
	Data []byte
}

// OXMID names a match field in a table feature property: an OXM header
// without payload (plus the experimenter id for class 0xFFFF).
type OXMID struct {
	Field        Field
	HasMask      bool
	Length       uint8 // the oxm_length of the header
	Experimenter uint32
}

// NewOXMID returns the id of basic field f as the spec advertises it: the
// payload length it would have, doubled and with hasmask set if masked.
func NewOXMID(f Field, masked bool) OXMID {
	n := f.Size()
	if masked {
		n *= 2
	}
	return OXMID{Field: f, HasMask: masked, Length: uint8(n)}
}

// TFPInstructions is an OFPTFPT_INSTRUCTIONS(_MISS) property.
type TFPInstructions struct {
	Type         TableFeaturePropType // TFPTInstructions or TFPTInstructionsMiss
	Instructions []InstructionID
}

// TFPNextTables is an OFPTFPT_NEXT_TABLES(_MISS) property.
type TFPNextTables struct {
	Type     TableFeaturePropType // TFPTNextTables or TFPTNextTablesMiss
	TableIDs []uint8
}

// TFPActions is an OFPTFPT_{WRITE,APPLY}_ACTIONS(_MISS) property.
type TFPActions struct {
	Type    TableFeaturePropType
	Actions []ActionID
}

// TFPOXM is an OFPTFPT_MATCH, OFPTFPT_WILDCARDS or
// OFPTFPT_{WRITE,APPLY}_SETFIELD(_MISS) property.
type TFPOXM struct {
	Type   TableFeaturePropType
	Fields []OXMID
}

// TFPExperimenter is an OFPTFPT_EXPERIMENTER(_MISS) property.
type TFPExperimenter struct {
	Type         TableFeaturePropType // TFPTExperimenter or TFPTExperimenterMiss
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

// PropType implements TableFeatureProp.
func (p *TFPInstructions) PropType() TableFeaturePropType { return p.Type }

// PropType implements TableFeatureProp.
func (p *TFPNextTables) PropType() TableFeaturePropType { return p.Type }

// PropType implements TableFeatureProp.
func (p *TFPActions) PropType() TableFeaturePropType { return p.Type }

// PropType implements TableFeatureProp.
func (p *TFPOXM) PropType() TableFeaturePropType { return p.Type }

// PropType implements TableFeatureProp.
func (p *TFPExperimenter) PropType() TableFeaturePropType { return p.Type }

func badPropType(p TableFeatureProp) error {
	return errf(TFFCBadType, "property type %v does not fit %T", p.PropType(), p)
}

func appendIDs(b []byte, t uint16, data []byte) ([]byte, error) {
	if 4+len(data) > 0xffff {
		return b, errf(TFFCBadLen, "id too long")
	}
	return append(put16(put16(b, t), uint16(4+len(data))), data...), nil
}

func (p *TFPInstructions) appendPayload(b []byte) ([]byte, error) {
	if p.Type != TFPTInstructions && p.Type != TFPTInstructionsMiss {
		return b, badPropType(p)
	}
	var err error
	for _, id := range p.Instructions {
		if b, err = appendIDs(b, uint16(id.Type), id.Data); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (p *TFPNextTables) appendPayload(b []byte) ([]byte, error) {
	if p.Type != TFPTNextTables && p.Type != TFPTNextTablesMiss {
		return b, badPropType(p)
	}
	return append(b, p.TableIDs...), nil
}

func (p *TFPActions) appendPayload(b []byte) ([]byte, error) {
	if p.Type < TFPTWriteActions || p.Type > TFPTApplyActionsMiss {
		return b, badPropType(p)
	}
	var err error
	for _, id := range p.Actions {
		if b, err = appendIDs(b, uint16(id.Type), id.Data); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (p *TFPOXM) appendPayload(b []byte) ([]byte, error) {
	switch p.Type {
	case TFPTMatch, TFPTWildcards, TFPTWriteSetfield, TFPTWriteSetfieldMiss, TFPTApplySetfield, TFPTApplySetfieldMiss:
	default:
		return b, badPropType(p)
	}
	for _, id := range p.Fields {
		h := uint32(id.Field.Class())<<16 | uint32(id.Field.Num())<<9 | uint32(id.Length)
		if id.HasMask {
			h |= 1 << 8
		}
		b = put32(b, h)
		if id.Field.Class() == OXMClassExperimenter {
			b = put32(b, id.Experimenter)
		}
	}
	return b, nil
}

func (p *TFPExperimenter) appendPayload(b []byte) ([]byte, error) {
	if p.Type != TFPTExperimenter && p.Type != TFPTExperimenterMiss {
		return b, badPropType(p)
	}
	return append(put32(put32(b, p.Experimenter), p.ExpType), p.Data...), nil
}

func appendTableFeatureProps(b []byte, props []TableFeatureProp) ([]byte, error) {
	for _, p := range props {
		if p == nil {
			return b, errf(TFFCBadType, "nil table feature property")
		}
		start := len(b)
		b = put16(put16(b, uint16(p.PropType())), 0)
		var err error
		if b, err = p.appendPayload(b); err != nil {
			return b[:start], err
		}
		if len(b)-start > MaxMessageLen {
			return b[:start], errTooLong
		}
		patch16(b, start+2, uint16(len(b)-start))
		b = padTo8(b, start)
	}
	return b, nil
}

// parseTLVIDs splits an instruction/action id list into (type, data) pairs.
func parseTLVIDs(b []byte, fn func(t uint16, data []byte)) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return errf(TFFCBadLen, "truncated id (%d bytes)", len(b))
		}
		n := int(u16(b, 2))
		if n < 4 || n > len(b) {
			return errf(TFFCBadLen, "id length %d (%d bytes left)", n, len(b))
		}
		fn(u16(b, 0), nilIfEmpty(b[4:n]))
		b = b[n:]
	}
	return nil
}

func parseTableFeatureProp(t TableFeaturePropType, p []byte) (TableFeatureProp, error) {
	switch t {
	case TFPTInstructions, TFPTInstructionsMiss:
		prop := &TFPInstructions{Type: t}
		err := parseTLVIDs(p, func(ty uint16, data []byte) {
			prop.Instructions = append(prop.Instructions, InstructionID{InstructionType(ty), data})
		})
		return prop, err
	case TFPTNextTables, TFPTNextTablesMiss:
		return &TFPNextTables{Type: t, TableIDs: nilIfEmpty(p)}, nil
	case TFPTWriteActions, TFPTWriteActionsMiss, TFPTApplyActions, TFPTApplyActionsMiss:
		prop := &TFPActions{Type: t}
		err := parseTLVIDs(p, func(ty uint16, data []byte) {
			prop.Actions = append(prop.Actions, ActionID{ActionType(ty), data})
		})
		return prop, err
	case TFPTMatch, TFPTWildcards, TFPTWriteSetfield, TFPTWriteSetfieldMiss, TFPTApplySetfield, TFPTApplySetfieldMiss:
		prop := &TFPOXM{Type: t}
		for len(p) > 0 {
			if len(p) < 4 {
				return nil, errf(TFFCBadLen, "truncated OXM id")
			}
			h := u32(p, 0)
			id := OXMID{Field: MakeField(OXMClass(h>>16), uint8(h>>9)), HasMask: h&(1<<8) != 0, Length: uint8(h)}
			p = p[4:]
			if id.Field.Class() == OXMClassExperimenter {
				if len(p) < 4 {
					return nil, errf(TFFCBadLen, "truncated experimenter OXM id")
				}
				id.Experimenter = u32(p, 0)
				p = p[4:]
			}
			prop.Fields = append(prop.Fields, id)
		}
		return prop, nil
	case TFPTExperimenter, TFPTExperimenterMiss:
		if len(p) < 8 {
			return nil, errf(TFFCBadLen, "experimenter property of %d bytes", len(p))
		}
		return &TFPExperimenter{Type: t, Experimenter: u32(p, 0), ExpType: u32(p, 4), Data: nilIfEmpty(p[8:])}, nil
	}
	return nil, errf(TFFCBadType, "table feature property type %d", t)
}

func (tf *TableFeatures) appendTo(b []byte) ([]byte, error) {
	start := len(b)
	b = zeros(append(put16(b, 0), tf.TableID), 5)
	b = appendString(b, tf.Name, 32)
	b = put64(put64(b, tf.MetadataMatch), tf.MetadataWrite)
	b = put32(put32(b, uint32(tf.Config)), tf.MaxEntries)
	b, err := appendTableFeatureProps(b, tf.Properties)
	if err != nil {
		return b[:start], err
	}
	if len(b)-start > MaxMessageLen {
		return b[:start], errTooLong
	}
	patch16(b, start, uint16(len(b)-start))
	return b, nil
}

// parseTableFeaturesList decodes consecutive ofp_table_features filling b.
func parseTableFeaturesList(b []byte) ([]TableFeatures, error) {
	var list []TableFeatures
	for len(b) > 0 {
		if len(b) < 64 {
			return nil, errf(BRCBadLen, "truncated table features (%d bytes)", len(b))
		}
		n := int(u16(b, 0))
		if n < 64 || n > len(b) {
			return nil, errf(BRCBadLen, "table features length %d (%d bytes left)", n, len(b))
		}
		tf := TableFeatures{TableID: b[2], Name: cstring(b[8:40]), MetadataMatch: u64(b, 40),
			MetadataWrite: u64(b, 48), Config: TableConfig(u32(b, 56)), MaxEntries: u32(b, 60)}
		for p := b[64:n]; len(p) > 0; {
			if len(p) < 4 {
				return nil, errf(TFFCBadLen, "truncated property header")
			}
			t, k := TableFeaturePropType(u16(p, 0)), int(u16(p, 2))
			if k < 4 || k > len(p) {
				return nil, errf(TFFCBadLen, "property %v length %d (%d bytes left)", t, k, len(p))
			}
			prop, err := parseTableFeatureProp(t, p[4:k])
			if err != nil {
				return nil, err
			}
			tf.Properties = append(tf.Properties, prop)
			p = p[min(pad8(k), len(p)):]
		}
		list = append(list, tf)
		b = b[n:]
	}
	return list, nil
}

// TableFeaturesRequest is the OFPMP_TABLE_FEATURES request body. An empty
// list queries the features; a non-empty one sets them.
type TableFeaturesRequest struct{ Tables []TableFeatures }

// TableFeaturesReply is the OFPMP_TABLE_FEATURES reply body. Use
// [AppendMultipartReplies] to split a large reply over several messages.
type TableFeaturesReply struct{ Tables []TableFeatures }

// MultipartType implements MultipartBody.
func (*TableFeaturesRequest) MultipartType() MultipartType { return MultipartTableFeatures }

// MultipartType implements MultipartBody.
func (*TableFeaturesReply) MultipartType() MultipartType { return MultipartTableFeatures }

func (r *TableFeaturesRequest) count() int                        { return len(r.Tables) }
func (r *TableFeaturesRequest) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *TableFeaturesRequest) appendElem(b []byte, i int) ([]byte, error) {
	return r.Tables[i].appendTo(b)
}
func (r *TableFeaturesRequest) decode(b []byte) (err error) {
	r.Tables, err = parseTableFeaturesList(b)
	return err
}

func (r *TableFeaturesReply) count() int                        { return len(r.Tables) }
func (r *TableFeaturesReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *TableFeaturesReply) appendElem(b []byte, i int) ([]byte, error) {
	return r.Tables[i].appendTo(b)
}
func (r *TableFeaturesReply) decode(b []byte) (err error) {
	r.Tables, err = parseTableFeaturesList(b)
	return err
}

// FullTableFeatures returns the features of a table that supports
// everything this codec knows, with the eight properties ovs-ofctl
// requires: all instructions (goto only if a later table exists), next
// tables tableID+1..nTables-1, every action for write and apply, every
// basic field for match (masked where maskable) and wildcards, and every
// settable basic field for write/apply set-field (all but in_port,
// in_phy_port, metadata and ipv6_exthdr, a pseudo-field that describes
// the packet's headers). Trim it to what the switch
// really supports.
func FullTableFeatures(tableID uint8, nTables int, name string, maxEntries uint32) TableFeatures {
	var insts []InstructionID
	for _, t := range InstructionTypes {
		if t == InstTypeGotoTable && int(tableID)+1 >= nTables {
			continue
		}
		insts = append(insts, InstructionID{Type: t})
	}
	var next []uint8
	for t := int(tableID) + 1; t < nTables && t <= int(TableMax); t++ {
		next = append(next, uint8(t))
	}
	acts := make([]ActionID, len(ActionTypes))
	for i, t := range ActionTypes {
		acts[i] = ActionID{Type: t}
	}
	var match, wild, set []OXMID
	for _, f := range BasicFields() {
		match = append(match, NewOXMID(f, f.Maskable()))
		wild = append(wild, NewOXMID(f, false))
		switch f {
		case OXMInPort, OXMInPhyPort, OXMMetadata, OXMIPv6ExtHdr:
		default:
			set = append(set, NewOXMID(f, false))
		}
	}
	return TableFeatures{
		TableID:       tableID,
		Name:          name,
		MetadataMatch: ^uint64(0),
		MetadataWrite: ^uint64(0),
		MaxEntries:    maxEntries,
		Properties: []TableFeatureProp{
			&TFPInstructions{Type: TFPTInstructions, Instructions: insts},
			&TFPNextTables{Type: TFPTNextTables, TableIDs: next},
			&TFPActions{Type: TFPTWriteActions, Actions: acts},
			&TFPActions{Type: TFPTApplyActions, Actions: acts},
			&TFPOXM{Type: TFPTMatch, Fields: match},
			&TFPOXM{Type: TFPTWildcards, Fields: wild},
			&TFPOXM{Type: TFPTWriteSetfield, Fields: set},
			&TFPOXM{Type: TFPTApplySetfield, Fields: set},
		},
	}
}
