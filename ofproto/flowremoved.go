package ofproto

// Flow expiry and FLOW_REMOVED. A removed rule with the send_flow_rem flag
// is announced after the removal is in place, whatever removed it (a
// timeout, a delete, a group or meter deletion).

import (
	"time"

	"github.com/goko-net/goko/openflow"
)

// expireFlows removes flows whose timeouts passed. Only rules with a
// timeout are looked at, so a million permanent rules cost nothing here.
func (b *Bridge) expireFlows(now time.Time) {
	reasons := map[*rule]openflow.FlowRemovedReason{}
	var gone []*rule
	b.update(func(tx *txn) error {
		var victims [numTables][]*rule
		for i := range b.tables {
			for r := range b.tables[i].timed {
				if reason, ok := expired(r, now); ok {
					reasons[r] = reason
					victims[i] = append(victims[i], r)
				}
			}
		}
		if len(reasons) > 0 {
			gone = tx.removeRules(&victims, nil)
		}
		return nil
	})
	for _, r := range gone {
		b.sendFlowRemoved(r, reasons[r], now)
	}
}

// expired reports whether r's idle or hard timeout passed at now, and
// which.
func expired(r *rule, now time.Time) (openflow.FlowRemovedReason, bool) {
	if r.hardTimeout != 0 && now.Sub(r.createdAt()) >= time.Duration(r.hardTimeout)*time.Second {
		return openflow.FlowRemovedHardTimeout, true
	}
	if r.idleTimeout != 0 {
		last := r.created
		if u := r.stats.Used.Load(); u > last {
			last = u
		}
		if now.Sub(time.Unix(0, last)) >= time.Duration(r.idleTimeout)*time.Second {
			return openflow.FlowRemovedIdleTimeout, true
		}
	}
	return 0, false
}

func (b *Bridge) sendFlowRemoved(r *rule, reason openflow.FlowRemovedReason, now time.Time) {
	if r.flags&openflow.FlowFlagSendFlowRem == 0 {
		return
	}
	d := now.Sub(r.createdAt())
	b.broadcast(asyncFlowRemoved, uint8(reason), &openflow.FlowRemoved{
		Cookie:       r.cookie,
		Priority:     r.priority,
		Reason:       reason,
		TableID:      r.tableID,
		DurationSec:  durSec(d),
		DurationNsec: durNsec(d),
		IdleTimeout:  r.idleTimeout,
		HardTimeout:  r.hardTimeout,
		PacketCount:  r.stats.Packets.Load(),
		ByteCount:    r.stats.Bytes.Load(),
		Match:        r.Match(),
	})
}
