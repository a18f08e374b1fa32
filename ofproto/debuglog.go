package ofproto

// Debug logs and the run-time log level.
//
// At level debug the bridge logs every flow-mod it handles, every
// packet-in it sends and every upcall (cache miss) it translates. Each
// call site checks debug() first, one atomic load of the level, so the
// messages cost nothing at the default level; the upcall log sits on the
// slow path only. The level itself is a slog.LevelVar the daemon shares
// with its handler; ofctl set-log-level changes it through the management
// socket (diag.go).

import (
	"context"
	"log/slog"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

func (b *Bridge) debug() bool { return b.log.Enabled(context.Background(), slog.LevelDebug) }

var flowModCommands = map[openflow.FlowModCommand]string{openflow.FlowAdd: "add", openflow.FlowModify: "modify",
	openflow.FlowModifyStrict: "modify_strict", openflow.FlowDelete: "delete", openflow.FlowDeleteStrict: "delete_strict"}

func (c *Conn) logFlowMod(xid uint32, fm *openflow.FlowMod, err error) {
	args := []any{"xid", xid, "command", flowModCommands[fm.Command], "table", fm.TableID, "priority", fm.Priority,
		"cookie", fm.Cookie, "match", fm.Match.String(), "instructions", len(fm.Instructions)}
	if err != nil {
		args = append(args, "err", err)
	}
	c.log.Debug("flow-mod", args...)
}

func (b *Bridge) logPacketIn(pi *openflow.PacketIn, arg *packetInArg) {
	b.log.Debug("packet-in", "reason", arg.String(), "match", pi.Match.String(), "total_len", pi.TotalLen,
		"data_len", len(pi.Data), "buffer_id", pi.BufferID)
}

func (b *Bridge) logUpcall(key *datapath.FlowKey, mf *datapath.Translation) {
	mask := mf.Mask
	mask.InPort = ^uint32(0)
	var masked datapath.FlowKey
	masked.And(key, &mask)
	args := []any{"flow", datapath.FormatFlow(key), "megaflow", datapath.FormatKey(&masked, &mask),
		"actions", datapath.FormatActions(mf.Actions)}
	if len(mf.Filters) > 0 {
		args = append(args, "filters", datapath.FormatFilters(mf.Filters))
	}
	if mf.NoCache {
		args = append(args, "cached", false)
	}
	b.log.Debug("upcall", args...)
}
