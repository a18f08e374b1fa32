package ofproto

// Action validation.
//
// Every action a flow-mod, group-mod or packet-out carries is checked here,
// before anything changes, so that what goko accepts it can execute: no
// silent acceptance. Checks that depend on the packet (a set_field of
// ipv4_src needs an IPv4 packet) are made against a protoCtx, what the
// rule's match guarantees about the packet, updated action by action as
// pushes and pops change the headers; OpenFlow calls a violation
// OFPBAC_MATCH_INCONSISTENT. Group buckets have no match, so their actions
// are checked without a context, and translation skips a header action
// whose header is missing at run time (as Open vSwitch does).

import (
	"slices"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// protoCtx is what is known about a packet's headers.
type protoCtx struct {
	ethType    uint16
	ethKnown   bool
	proto      uint8
	protoKnown bool
	icmpType   uint8 // ICMPv6 type, for the ND fields
	icmpKnown  bool
	vlan       bool // an outer VLAN tag is present
}

// matchCtx returns what m guarantees.
func matchCtx(m *openflow.Match) *protoCtx {
	c := &protoCtx{}
	if o := m.Field(openflow.OXMEthType); o != nil && o.Mask == nil {
		c.ethType, c.ethKnown = o.Uint16(), true
	}
	if o := m.Field(openflow.OXMIPProto); o != nil && o.Mask == nil {
		c.proto, c.protoKnown = o.Uint8(), true
	}
	if o := m.Field(openflow.OXMICMPv6Type); o != nil && o.Mask == nil {
		c.icmpType, c.icmpKnown = o.Uint8(), true
	}
	if o := m.Field(openflow.OXMVlanVID); o != nil {
		present := o.Uint16()&openflow.VIDPresent != 0
		if o.Mask != nil {
			present = present && o.MaskUint()&uint64(openflow.VIDPresent) != 0
		}
		c.vlan = present
	}
	return c
}

// keyCtx returns what a concrete packet key says.
func keyCtx(k *datapath.FlowKey) *protoCtx {
	return &protoCtx{ethType: k.EthType, ethKnown: true, proto: k.NwProto, protoKnown: true,
		icmpType: uint8(k.TpSrc), icmpKnown: true, vlan: k.VlanTCI&datapath.VlanPresent != 0}
}

func (c *protoCtx) isEth(types ...uint16) bool {
	if !c.ethKnown {
		return false
	}
	for _, t := range types {
		if c.ethType == t {
			return true
		}
	}
	return false
}

func (c *protoCtx) isIP() bool   { return c.isEth(datapath.EthTypeIPv4, datapath.EthTypeIPv6) }
func (c *protoCtx) isMPLS() bool { return c.isEth(datapath.EthTypeMPLS, datapath.EthTypeMPLSM) }
func (c *protoCtx) isProto(eth []uint16, p uint8) bool {
	return c.isEth(eth...) && c.protoKnown && c.proto == p
}

var ipAny = []uint16{datapath.EthTypeIPv4, datapath.EthTypeIPv6}

// allowsSet reports whether the packet has the header field f lives in.
func (c *protoCtx) allowsSet(f openflow.Field) bool {
	switch f {
	case openflow.OXMEthDst, openflow.OXMEthSrc, openflow.OXMEthType, openflow.OXMTunnelID, openflow.OXMTunIPv4Src, openflow.OXMTunIPv4Dst:
		return true
	case openflow.OXMVlanVID, openflow.OXMVlanPCP:
		return c.vlan
	case openflow.OXMIPDSCP, openflow.OXMIPECN, openflow.OXMIPProto:
		return c.isIP()
	case openflow.OXMIPv4Src, openflow.OXMIPv4Dst:
		return c.isEth(datapath.EthTypeIPv4)
	case openflow.OXMTCPSrc, openflow.OXMTCPDst:
		return c.isProto(ipAny, datapath.IPProtoTCP)
	case openflow.OXMUDPSrc, openflow.OXMUDPDst:
		return c.isProto(ipAny, datapath.IPProtoUDP)
	case openflow.OXMSCTPSrc, openflow.OXMSCTPDst:
		return c.isProto(ipAny, datapath.IPProtoSCTP)
	case openflow.OXMICMPv4Type, openflow.OXMICMPv4Code:
		return c.isProto([]uint16{datapath.EthTypeIPv4}, datapath.IPProtoICMP)
	case openflow.OXMICMPv6Type, openflow.OXMICMPv6Code:
		return c.isProto([]uint16{datapath.EthTypeIPv6}, datapath.IPProtoICMPv6)
	case openflow.OXMARPOp, openflow.OXMARPSPA, openflow.OXMARPTPA, openflow.OXMARPSHA, openflow.OXMARPTHA:
		return c.isEth(datapath.EthTypeARP)
	case openflow.OXMIPv6Src, openflow.OXMIPv6Dst, openflow.OXMIPv6FLabel:
		return c.isEth(datapath.EthTypeIPv6)
	case openflow.OXMIPv6NDTarget:
		return c.isProto([]uint16{datapath.EthTypeIPv6}, datapath.IPProtoICMPv6) && c.icmpKnown && (c.icmpType == 135 || c.icmpType == 136)
	case openflow.OXMIPv6NDSLL:
		return c.isProto([]uint16{datapath.EthTypeIPv6}, datapath.IPProtoICMPv6) && c.icmpKnown && c.icmpType == 135
	case openflow.OXMIPv6NDTLL:
		return c.isProto([]uint16{datapath.EthTypeIPv6}, datapath.IPProtoICMPv6) && c.icmpKnown && c.icmpType == 136
	case openflow.OXMMPLSLabel, openflow.OXMMPLSTC, openflow.OXMMPLSBOS:
		return c.isMPLS()
	case openflow.OXMPBBISID:
		return c.isEth(datapath.EthTypePBB)
	}
	return false
}

// setFields maps the OXM fields set_field can write to datapath fields.
// The rest (in_port, in_phy_port, metadata, ipv6_exthdr) are not
// settable: OFPBAC_BAD_SET_TYPE. Metadata is written with the
// write-metadata instruction; ipv6_exthdr describes the packet rather than
// holding a value. eth_type and ip_proto rewrite the header field only:
// the rest of the packet is then read under the new type, as a receiver
// would read it.
var setFields = map[openflow.Field]datapath.Field{
	openflow.OXMEthDst: datapath.FieldEthDst, openflow.OXMEthSrc: datapath.FieldEthSrc,
	openflow.OXMEthType: datapath.FieldEthType, openflow.OXMIPProto: datapath.FieldIPProto,
	openflow.OXMVlanVID: datapath.FieldVlanVID, openflow.OXMVlanPCP: datapath.FieldVlanPCP,
	openflow.OXMIPDSCP: datapath.FieldIPDSCP, openflow.OXMIPECN: datapath.FieldIPECN,
	openflow.OXMIPv4Src: datapath.FieldIPv4Src, openflow.OXMIPv4Dst: datapath.FieldIPv4Dst,
	openflow.OXMTCPSrc: datapath.FieldTpSrc, openflow.OXMTCPDst: datapath.FieldTpDst,
	openflow.OXMUDPSrc: datapath.FieldTpSrc, openflow.OXMUDPDst: datapath.FieldTpDst,
	openflow.OXMSCTPSrc: datapath.FieldTpSrc, openflow.OXMSCTPDst: datapath.FieldTpDst,
	openflow.OXMICMPv4Type: datapath.FieldICMPType, openflow.OXMICMPv4Code: datapath.FieldICMPCode,
	openflow.OXMICMPv6Type: datapath.FieldICMPType, openflow.OXMICMPv6Code: datapath.FieldICMPCode,
	openflow.OXMARPOp: datapath.FieldARPOp, openflow.OXMARPSPA: datapath.FieldARPSPA,
	openflow.OXMARPTPA: datapath.FieldARPTPA, openflow.OXMARPSHA: datapath.FieldARPSHA,
	openflow.OXMARPTHA: datapath.FieldARPTHA, openflow.OXMIPv6Src: datapath.FieldIPv6Src,
	openflow.OXMIPv6Dst: datapath.FieldIPv6Dst, openflow.OXMIPv6FLabel: datapath.FieldIPv6Label,
	openflow.OXMIPv6NDTarget: datapath.FieldNDTarget, openflow.OXMIPv6NDSLL: datapath.FieldNDSLL,
	openflow.OXMIPv6NDTLL: datapath.FieldNDTLL, openflow.OXMMPLSLabel: datapath.FieldMPLSLabel,
	openflow.OXMMPLSTC: datapath.FieldMPLSTC, openflow.OXMMPLSBOS: datapath.FieldMPLSBOS,
	openflow.OXMTunnelID: datapath.FieldTunID, openflow.OXMPBBISID: datapath.FieldPBBISID,
}

// settableFields lists setFields' keys in field order, for TABLE_FEATURES.
var settableFields = func() []openflow.Field {
	var out []openflow.Field
	for _, f := range openflow.BasicFields() {
		if _, ok := setFields[f]; ok {
			out = append(out, f)
		}
	}
	return out
}()

// supportedActions are the action types goko executes, for TABLE_FEATURES.
var supportedActions = []openflow.ActionType{
	openflow.ActionTypeOutput, openflow.ActionTypeCopyTTLOut, openflow.ActionTypeCopyTTLIn,
	openflow.ActionTypeSetMPLSTTL, openflow.ActionTypeDecMPLSTTL, openflow.ActionTypePushVLAN,
	openflow.ActionTypePopVLAN, openflow.ActionTypePushMPLS, openflow.ActionTypePopMPLS,
	openflow.ActionTypeSetQueue, openflow.ActionTypeGroup, openflow.ActionTypeSetNWTTL,
	openflow.ActionTypeDecNWTTL, openflow.ActionTypeSetField, openflow.ActionTypePushPBB,
	openflow.ActionTypePopPBB,
}

// actionCheck says where actions come from, which changes what is allowed.
type actionCheck struct {
	ctx       *protoCtx // nil: headers unknown (group buckets), no consistency checks
	packetOut bool      // output:TABLE is allowed
}

// checkActions validates a list of actions executed in order. b.modMu or
// b.mu must be held (group and port references are resolved).
func (b *Bridge) checkActions(actions []openflow.Action, ac actionCheck) error {
	for _, a := range actions {
		if err := b.checkAction(a, ac); err != nil {
			return err
		}
		if ac.ctx != nil {
			ac.ctx.apply(a)
		}
	}
	return nil
}

// apply updates what is known after action a.
func (c *protoCtx) apply(a openflow.Action) {
	switch a := a.(type) {
	case openflow.ActionPushVLAN:
		c.vlan = true
	case openflow.ActionPopVLAN:
		c.vlan = false // an inner tag may exist, but nothing guarantees it
	case openflow.ActionPushMPLS:
		c.ethType, c.ethKnown, c.protoKnown, c.icmpKnown = a.EtherType, true, false, false
	case openflow.ActionPopMPLS:
		c.ethType, c.ethKnown, c.protoKnown, c.icmpKnown = a.EtherType, true, false, false
	case openflow.ActionPushPBB:
		// The customer frame, tags included, is now inside.
		c.ethType, c.ethKnown, c.protoKnown, c.icmpKnown, c.vlan = a.EtherType, true, false, false, false
	case openflow.ActionPopPBB:
		*c = protoCtx{} // the customer frame: nothing is known of it
	case openflow.ActionSetField:
		switch a.Field.Field {
		case openflow.OXMEthType:
			c.ethType, c.ethKnown, c.protoKnown, c.icmpKnown = a.Field.Uint16(), true, false, false
		case openflow.OXMIPProto:
			c.proto, c.protoKnown, c.icmpKnown = a.Field.Uint8(), true, false
		case openflow.OXMICMPv6Type:
			c.icmpType, c.icmpKnown = a.Field.Uint8(), true
		}
	}
}

func (b *Bridge) checkAction(a openflow.Action, ac actionCheck) error {
	inconsistent := func(what string) error {
		return openflow.Errorf(openflow.BACMatchInconsistent, "%v needs %s, which the match does not guarantee", a.ActionType(), what)
	}
	c := ac.ctx
	switch a := a.(type) {
	case openflow.ActionOutput:
		switch {
		case a.Port == openflow.PortTable:
			if !ac.packetOut {
				return openflow.Errorf(openflow.BACBadOutPort, "output:TABLE is only allowed in packet-out")
			}
		case a.Port == 0, a.Port == openflow.PortAny:
			return openflow.Errorf(openflow.BACBadOutPort, "output to port %#x is not allowed", a.Port)
		case a.Port == openflow.PortNormal:
			return openflow.Errorf(openflow.BACBadOutPort, "output:NORMAL is not supported")
		case a.Port > openflow.PortMax && a.Port < openflow.PortInPort:
			return openflow.Errorf(openflow.BACBadOutPort, "output to reserved port %#x", a.Port)
		case ac.packetOut && a.Port <= openflow.PortMax && b.ports[a.Port] == nil:
			// Flows and group buckets may name a port that appears later
			// (OpenFlow 1.3.5 section 6.4 allows dropping meanwhile, as
			// Open vSwitch does); a packet-out goes out now or never.
			return openflow.Errorf(openflow.BACBadOutPort, "packet-out to port %d, which does not exist", a.Port)
		}
	case openflow.ActionGroup:
		if b.groups[a.GroupID] == nil {
			return openflow.Errorf(openflow.BACBadOutGroup, "group %d does not exist", a.GroupID)
		}
	case openflow.ActionSetQueue:
		// Ports have a single queue; the id is recorded for the datapath.
	case openflow.ActionPushVLAN:
		if a.EtherType != datapath.EthTypeVLAN && a.EtherType != datapath.EthTypeQinQ {
			return openflow.Errorf(openflow.BACBadArgument, "push_vlan ethertype %#x (want 0x8100 or 0x88a8)", a.EtherType)
		}
	case openflow.ActionPopVLAN:
		if c != nil && !c.vlan {
			return inconsistent("a VLAN tag")
		}
	case openflow.ActionPushMPLS:
		if a.EtherType != datapath.EthTypeMPLS && a.EtherType != datapath.EthTypeMPLSM {
			return openflow.Errorf(openflow.BACBadArgument, "push_mpls ethertype %#x (want 0x8847 or 0x8848)", a.EtherType)
		}
	case openflow.ActionPopMPLS:
		if c != nil && !c.isMPLS() {
			return inconsistent("an MPLS packet")
		}
	case openflow.ActionSetMPLSTTL, openflow.ActionDecMPLSTTL, openflow.ActionCopyTTLOut, openflow.ActionCopyTTLIn:
		if c != nil && !c.isMPLS() {
			return inconsistent("an MPLS packet")
		}
	case openflow.ActionSetNWTTL, openflow.ActionDecNWTTL:
		if c != nil && !c.isIP() {
			return inconsistent("an IP packet")
		}
	case openflow.ActionSetField:
		return checkSetField(a.Field, c)
	case openflow.ActionPushPBB:
		if a.EtherType != datapath.EthTypePBB {
			return openflow.Errorf(openflow.BACBadArgument, "push_pbb ethertype %#x (want 0x88e7)", a.EtherType)
		}
	case openflow.ActionPopPBB:
		if c != nil && !c.isEth(datapath.EthTypePBB) {
			return inconsistent("a PBB packet")
		}
	case openflow.ActionExperimenter:
		if _, ok := openflow.ParseGokoCTCommit(a); ok {
			return nil
		}
		sm, err := openflow.ParseGokoSendMaps(a)
		if err != nil {
			return err
		}
		f := b.filters.progs[sm.ProgID]
		if f == nil {
			return gokoErr(openflow.GokoErrUnknownProg, "send_maps: filter program %d is not loaded", sm.ProgID)
		}
		for _, name := range sm.Maps {
			if f.prog.Load().Map(name) == nil {
				return gokoErr(openflow.GokoErrUnknownMap, "send_maps: program %d has no map %q", sm.ProgID, name)
			}
		}
	default:
		return openflow.Errorf(openflow.BACBadType, "action %v is not supported", a.ActionType())
	}
	return nil
}

func checkSetField(o openflow.OXM, c *protoCtx) error {
	if isTunIPv4Field(o.Field) {
		return checkTunSetField(o)
	}
	df, ok := setFields[o.Field]
	if !ok || o.Field.Class() != openflow.OXMClassOpenFlowBasic {
		return openflow.Errorf(openflow.BACBadSetType, "set_field of %v is not supported", o.Field)
	}
	if len(o.Value) != o.Field.Size() {
		return openflow.Errorf(openflow.BACBadSetLen, "set_field %v: %d bytes, want %d", o.Field, len(o.Value), o.Field.Size())
	}
	if o.Mask != nil {
		return openflow.Errorf(openflow.BACBadSetArgument, "set_field %v: OpenFlow 1.3 set_field takes no mask", o.Field)
	}
	if !fieldFits(o) {
		return openflow.Errorf(openflow.BACBadSetArgument, "set_field %v: value %x too wide for the field", o.Field, o.Value)
	}
	if o.Field == openflow.OXMVlanVID && o.Uint16()&openflow.VIDPresent == 0 {
		// The value is a tag's VID: OpenFlow 1.3 writes it with
		// OFPVID_PRESENT set (1.5 says so outright; Open vSwitch insists).
		return openflow.Errorf(openflow.BACBadSetArgument, "set_field vlan_vid=%#x: the value needs OFPVID_PRESENT (0x1000)", o.Uint16())
	}
	if df == datapath.FieldARPOp && o.Uint16() > 0xff {
		return openflow.Errorf(openflow.BACBadSetArgument, "set_field arp_op=%d: opcodes above 255 are not supported", o.Uint16())
	}
	if c != nil && !c.allowsSet(o.Field) {
		return openflow.Errorf(openflow.BACMatchInconsistent, "set_field %v: the match does not guarantee the packet has that header", o.Field)
	}
	return nil
}

// fieldBits are the widths of the set_field values narrower than their
// byte size (OpenFlow 1.3.5 table 12).
var fieldBits = map[openflow.Field]int{
	openflow.OXMVlanVID: 13, openflow.OXMVlanPCP: 3, openflow.OXMIPDSCP: 6, openflow.OXMIPECN: 2,
	openflow.OXMIPv6FLabel: 20, openflow.OXMMPLSLabel: 20, openflow.OXMMPLSTC: 3, openflow.OXMMPLSBOS: 1,
}

func fieldFits(o openflow.OXM) bool {
	bits, ok := fieldBits[o.Field]
	if !ok {
		return true
	}
	return o.Uint()>>bits == 0
}

// actionSetRank orders the action set (OpenFlow 1.3.5 section 5.10): copy
// TTL inwards, pop, push-MPLS, push-PBB, push-VLAN, copy TTL outwards,
// decrement TTL, set (set_field and the TTL setters), qos, group, output.
func actionSetRank(t openflow.ActionType) int {
	switch t {
	case openflow.ActionTypeCopyTTLIn:
		return 0
	case openflow.ActionTypePopVLAN, openflow.ActionTypePopMPLS, openflow.ActionTypePopPBB:
		return 1
	case openflow.ActionTypePushMPLS:
		return 2
	case openflow.ActionTypePushPBB:
		return 3
	case openflow.ActionTypePushVLAN:
		return 4
	case openflow.ActionTypeCopyTTLOut:
		return 5
	case openflow.ActionTypeDecMPLSTTL, openflow.ActionTypeDecNWTTL:
		return 6
	case openflow.ActionTypeSetMPLSTTL, openflow.ActionTypeSetNWTTL, openflow.ActionTypeSetField:
		return 7
	case openflow.ActionTypeSetQueue:
		return 8
	case openflow.ActionTypeGroup:
		return 9
	case openflow.ActionTypeOutput:
		return 10
	}
	return 11
}

// sameSlot reports whether a and b occupy the same action-set slot: one
// action per type, and for set_field one per field.
func sameSlot(a, b openflow.Action) bool {
	if a.ActionType() != b.ActionType() {
		return false
	}
	if sa, ok := a.(openflow.ActionSetField); ok {
		sb := b.(openflow.ActionSetField)
		return sa.Field.Field == sb.Field.Field && sa.Field.Experimenter == sb.Field.Experimenter
	}
	return true
}

// mergeActionSet writes actions into set, a later action replacing an
// earlier one of the same slot, and returns the set.
func mergeActionSet(set, actions []openflow.Action) []openflow.Action {
	for _, a := range actions {
		replaced := false
		for i, old := range set {
			if sameSlot(old, a) {
				set[i], replaced = a, true
				break
			}
		}
		if !replaced {
			set = append(set, a)
		}
	}
	return set
}

// orderedActionSet returns set's actions in execution order, leaving out
// output when a group is present (section 5.10).
func orderedActionSet(set []openflow.Action) []openflow.Action {
	hasGroup := false
	for _, a := range set {
		if a.ActionType() == openflow.ActionTypeGroup {
			hasGroup = true
		}
	}
	out := sortedActionSet(set)
	if hasGroup {
		out = slices.DeleteFunc(out, func(a openflow.Action) bool { return a.ActionType() == openflow.ActionTypeOutput })
	}
	return out
}

// sortedActionSet returns set's actions in execution order.
func sortedActionSet(set []openflow.Action) []openflow.Action {
	out := slices.Clone(set)
	slices.SortStableFunc(out, func(a, b openflow.Action) int {
		return actionSetRank(a.ActionType()) - actionSetRank(b.ActionType())
	})
	return out
}
