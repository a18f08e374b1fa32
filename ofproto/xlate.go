package ofproto

// Translation: running one packet through the OpenFlow pipeline.
//
// Instructions of a rule run in the order the spec fixes (meter, apply,
// clear, write, write-metadata, goto), not the order they were sent in.
// Apply-actions take effect at once; write-actions accumulate in the action
// set, which runs when the pipeline ends without a goto. Output actions
// become datapath outputs resolved against the current port set: flood, all
// and in_port are expanded here, so the datapath only ever sees plain port
// numbers. Because flood depends on the input port, every megaflow mask
// includes in_port.

import (
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// packetInArg is the context of a packet sent to the controller; it rides
// on the datapath's Userspace action.
type packetInArg struct {
	reason  openflow.PacketInReason
	tableID uint8
	cookie  uint64
	maxLen  uint16
}

type xlate struct {
	b         *Bridge
	key       *datapath.FlowKey
	mf        *datapath.Megaflow
	actionSet []openflow.Action
	tableID   uint8
	rule      *rule
}

// Translate implements datapath.Translator.
func (b *Bridge) Translate(pkt []byte, key *datapath.FlowKey, mf *datapath.Megaflow) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	mf.Mask.InPort = ^uint32(0)
	x := xlate{b: b, key: key, mf: mf}
	x.pipeline(0)
	return nil
}

func (x *xlate) pipeline(table uint8) {
	var md uint64
	for {
		x.tableID = table
		r := x.b.tables[table].lookup(x.key, md, &x.mf.Mask)
		if r == nil {
			return // OpenFlow 1.3: a table miss with no table-miss rule drops
		}
		x.rule = r
		x.mf.Stats = append(x.mf.Stats, r.stats)
		var gotoTable *openflow.InstGotoTable
		for _, typ := range instructionOrder {
			for _, in := range r.instructions {
				if in.InstructionType() != typ {
					continue
				}
				switch in := in.(type) {
				case openflow.InstApplyActions:
					for _, a := range in.Actions {
						x.action(a)
					}
				case openflow.InstClearActions:
					x.actionSet = x.actionSet[:0]
				case openflow.InstWriteActions:
					x.writeActions(in.Actions)
				case openflow.InstWriteMetadata:
					md = md&^in.Mask | in.Metadata&in.Mask
				case openflow.InstGotoTable:
					gotoTable = &in
				}
			}
		}
		if gotoTable == nil {
			x.runActionSet()
			return
		}
		table = gotoTable.TableID
	}
}

// instructionOrder is the execution order of OpenFlow 1.3 section 5.9.
var instructionOrder = [...]openflow.InstructionType{
	openflow.InstTypeMeter, openflow.InstTypeApplyActions, openflow.InstTypeClearActions,
	openflow.InstTypeWriteActions, openflow.InstTypeWriteMetadata, openflow.InstTypeGotoTable,
}

// writeActions merges actions into the action set: one action of each type,
// a later one replacing an earlier one.
func (x *xlate) writeActions(actions []openflow.Action) {
	for _, a := range actions {
		replaced := false
		for i, old := range x.actionSet {
			if old.ActionType() == a.ActionType() {
				x.actionSet[i], replaced = a, true
				break
			}
		}
		if !replaced {
			x.actionSet = append(x.actionSet, a)
		}
	}
}

// runActionSet executes the action set in the spec's order; of the actions
// goko supports so far only output remains, and a group would take its
// place.
func (x *xlate) runActionSet() {
	for _, a := range x.actionSet {
		if a.ActionType() == openflow.ActionTypeOutput {
			x.action(a)
		}
	}
}

func (x *xlate) action(a openflow.Action) {
	if o, ok := a.(openflow.ActionOutput); ok {
		x.output(o)
	}
}

func (x *xlate) output(o openflow.ActionOutput) {
	in := x.key.InPort
	switch o.Port {
	case openflow.PortInPort:
		x.emit(in)
	case openflow.PortFlood, openflow.PortAll:
		for _, p := range x.b.portList {
			if p.no == in || p.config&openflow.PortConfigNoFwd != 0 || p.config&openflow.PortConfigDown != 0 {
				continue
			}
			x.emit(p.no)
		}
	case openflow.PortController:
		if p := x.b.ports[in]; p != nil && p.config&openflow.PortConfigNoPacketIn != 0 {
			return
		}
		reason := openflow.PacketInReasonAction
		if x.rule != nil && x.rule.isTableMiss() {
			reason = openflow.PacketInReasonNoMatch
		}
		var cookie uint64
		if x.rule != nil {
			cookie = x.rule.cookie
		}
		x.mf.Actions = append(x.mf.Actions, datapath.Action{Kind: datapath.ActUserspace,
			User: &datapath.Userspace{Arg: &packetInArg{reason: reason, tableID: x.tableID, cookie: cookie, maxLen: o.MaxLen}}})
	default:
		// A packet never goes back out of its input port unless the rule
		// says IN_PORT (OpenFlow 1.3 section 7.2.5).
		if o.Port == in {
			return
		}
		if p := x.b.ports[o.Port]; p != nil && p.config&(openflow.PortConfigNoFwd|openflow.PortConfigDown) == 0 {
			x.emit(o.Port)
		}
	}
}

func (x *xlate) emit(port uint32) {
	x.mf.Actions = append(x.mf.Actions, datapath.Action{Kind: datapath.ActOutput, Port: port})
}
