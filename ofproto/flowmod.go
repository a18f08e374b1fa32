package ofproto

import (
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// tableAll is OFPTT_ALL, valid in delete and stats requests.
const tableAll = 0xff

// validFlowFlags are the OFPFF_* bits OpenFlow 1.3 defines.
const validFlowFlags = openflow.FlowModFlags(0x1f)

// FlowMod applies a flow-mod. The error, if any, carries the OpenFlow error
// type and code for the reply.
func (b *Bridge) FlowMod(fm *openflow.FlowMod) error {
	if fm.Flags&^validFlowFlags != 0 {
		return openflow.Errorf(openflow.FMFCBadFlags, "unknown flags %#x", uint16(fm.Flags&^validFlowFlags))
	}
	adds := false
	switch fm.Command {
	case openflow.FlowAdd, openflow.FlowModify, openflow.FlowModifyStrict:
		adds = true
		if fm.TableID >= numTables {
			return openflow.Errorf(openflow.FMFCBadTableID, "table %d does not exist (0-%d)", fm.TableID, numTables-1)
		}
	case openflow.FlowDelete, openflow.FlowDeleteStrict:
		if fm.TableID >= numTables && fm.TableID != tableAll {
			return openflow.Errorf(openflow.FMFCBadTableID, "table %d does not exist (0-%d)", fm.TableID, numTables-1)
		}
	default:
		return openflow.Errorf(openflow.FMFCBadCommand, "unknown flow-mod command %d", fm.Command)
	}
	if err := fm.Match.CheckPrereqs(); err != nil {
		return err
	}
	m, err := compileMatch(&fm.Match)
	if err != nil {
		return err
	}

	var removed []*rule
	err = b.update(func(tx *txn) error {
		var err error
		removed, err = b.flowMod(tx, fm, &m, adds)
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, r := range removed {
		b.sendFlowRemoved(r, openflow.FlowRemovedDelete, now)
	}
	if fm.BufferID != openflow.NoBuffer && adds {
		// The flow-mod took effect; now the buffered packet goes through
		// the pipeline, which sees the new rule (OpenFlow 1.3 section 6.4).
		pkt, inPort, err := b.buffers.take(fm.BufferID)
		if err != nil {
			return err
		}
		return b.runPacketOut(inPort, pkt, []openflow.Action{openflow.ActionOutput{Port: openflow.PortTable}})
	}
	return nil
}

// flowMod applies a checked flow-mod as part of change tx.
func (b *Bridge) flowMod(tx *txn, fm *openflow.FlowMod, m *flowMatch, adds bool) ([]*rule, error) {
	if m.filterID != 0 {
		f, err := b.lookupFilter(m.filterID)
		if err != nil && adds {
			return nil, err
		}
		// Deleting or modifying flows of an unloaded program selects
		// nothing, which is not an error.
		m.filter = f
	}
	if adds {
		// Instructions name groups and meters, which must still exist
		// when the rule goes in: modMu keeps them.
		if err := b.checkInstructions(fm.TableID, &fm.Match, fm.Instructions); err != nil {
			return nil, err
		}
	}
	strict := fm.Command == openflow.FlowModifyStrict || fm.Command == openflow.FlowDeleteStrict
	switch fm.Command {
	case openflow.FlowAdd:
		return nil, b.addFlow(tx, fm, m)
	case openflow.FlowModify, openflow.FlowModifyStrict:
		b.modifyFlows(tx, fm, m, strict)
		return nil, nil
	default:
		sel := b.selectRules(fm.TableID, func(r *rule) bool {
			return b.selected(fm, m, strict, r) && r.outputsTo(fm.OutPort) && r.usesGroup(fm.OutGroup)
		})
		return tx.removeRules(sel, nil), nil
	}
}

func (b *Bridge) addFlow(tx *txn, fm *openflow.FlowMod, m *flowMatch) error {
	t := &b.tables[fm.TableID]
	if fm.Flags&openflow.FlowFlagCheckOverlap != 0 {
		overlap := false
		t.index.each(func(r *rule) bool {
			overlap = r.priority == fm.Priority && r.fm.overlaps(m)
			return !overlap
		})
		if overlap {
			return openflow.Errorf(openflow.FMFCOverlap, "overlaps an existing flow of priority %d", fm.Priority)
		}
	}
	enc, err := fm.Match.MarshalBinary()
	if err != nil {
		return err
	}
	// An identical rule is replaced; its counters carry over unless the
	// controller asked for them to be reset.
	old := t.findStrict(m, fm.Priority)
	if old == nil && t.len() >= b.maxFlows() {
		return openflow.Errorf(openflow.FMFCTableFull, "table %d holds %d flows, its limit", fm.TableID, t.len())
	}
	stats := new(datapath.FlowStats)
	if old != nil && fm.Flags&openflow.FlowFlagResetCounts == 0 {
		stats = old.stats
	}
	r := &rule{
		tableID:      fm.TableID,
		priority:     fm.Priority,
		match:        enc,
		fm:           *m,
		cookie:       fm.Cookie,
		idleTimeout:  fm.IdleTimeout,
		hardTimeout:  fm.HardTimeout,
		flags:        fm.Flags,
		instructions: fm.Instructions,
		stats:        stats,
		created:      time.Now().UnixNano(),
	}
	if old != nil {
		tx.replace(t, old, r)
		return nil
	}
	tx.insert(t, r)
	return nil
}

// modifyFlows changes the instructions of the rules a modify selects.
func (b *Bridge) modifyFlows(tx *txn, fm *openflow.FlowMod, m *flowMatch, strict bool) {
	sel := b.tables[fm.TableID].selectRules(func(r *rule) bool { return b.selected(fm, m, strict, r) })
	if len(sel) == 0 {
		return
	}
	tx.edit(func() {
		for _, r := range sel {
			tx.modify(r, fm.Instructions, fm.Flags&openflow.FlowFlagResetCounts != 0)
		}
	})
}

// selected implements the rule selection shared by modify, delete and
// flow stats: strict means same match and priority, otherwise every rule at
// least as specific as the match; both filtered by cookie and mask.
func (b *Bridge) selected(fm *openflow.FlowMod, m *flowMatch, strict bool, r *rule) bool {
	if fm.CookieMask != 0 && (r.cookie^fm.Cookie)&fm.CookieMask != 0 {
		return false
	}
	if strict {
		return r.priority == fm.Priority && r.fm.equal(m)
	}
	return m.covers(&r.fm)
}

// checkInstructions rejects instructions and actions goko cannot execute,
// with the error the spec assigns. b.modMu or b.mu must be held.
func (b *Bridge) checkInstructions(table uint8, match *openflow.Match, ins []openflow.Instruction) error {
	seen := map[openflow.InstructionType]bool{}
	ctx := matchCtx(match)
	var write []openflow.Action
	for _, typ := range instructionOrder {
		for _, in := range ins {
			if in.InstructionType() != typ {
				continue
			}
			switch in := in.(type) {
			case openflow.InstApplyActions:
				// Checked in execution order, against the headers the
				// packet has at that point.
				if err := b.checkActions(in.Actions, actionCheck{ctx: ctx}); err != nil {
					return err
				}
			case openflow.InstWriteActions:
				write = mergeActionSet(write, in.Actions)
			}
		}
	}
	// The action set runs after apply-actions, in its own order.
	if err := b.checkActions(sortedActionSet(write), actionCheck{ctx: ctx}); err != nil {
		return err
	}
	for _, in := range ins {
		if seen[in.InstructionType()] {
			return openflow.Errorf(openflow.BICUnsupInst, "instruction %v appears twice", in.InstructionType())
		}
		seen[in.InstructionType()] = true
		switch in := in.(type) {
		case openflow.InstGotoTable:
			if in.TableID <= table || in.TableID >= numTables {
				return openflow.Errorf(openflow.BICBadTableID, "goto_table:%d from table %d (must go forward, below %d)", in.TableID, table, numTables)
			}
		case openflow.InstWriteMetadata, openflow.InstClearActions, openflow.InstApplyActions, openflow.InstWriteActions:
		case openflow.InstMeter:
			if in.MeterID == 0 || in.MeterID > openflow.MeterMax {
				return openflow.Errorf(openflow.MMFCInvalidMeter, "meter %#x is not a configurable meter", in.MeterID)
			}
			if b.meters[in.MeterID] == nil {
				return openflow.Errorf(openflow.MMFCUnknownMeter, "meter %d does not exist", in.MeterID)
			}
		case openflow.InstExperimenter:
			return openflow.Errorf(openflow.BICBadExperimenter, "unknown experimenter instruction %#x", in.Experimenter)
		default:
			return openflow.Errorf(openflow.BICUnknownInst, "unknown instruction %v", in.InstructionType())
		}
	}
	return nil
}
