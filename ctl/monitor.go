package ctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/openflow"
)

// monitor: print the switch's asynchronous messages until interrupted.

var packetInReasons = []string{"no_match", "action", "invalid_ttl"}

func packetInReason(r openflow.PacketInReason) string {
	if int(r) < len(packetInReasons) {
		return packetInReasons[r]
	}
	return strconv.Itoa(int(r))
}

var flowRemovedReasons = []string{"idle", "hard", "delete", "group_delete"}

func flowRemovedReason(r openflow.FlowRemovedReason) string {
	if int(r) < len(flowRemovedReasons) {
		return flowRemovedReasons[r]
	}
	return strconv.Itoa(int(r))
}

// FormatPacketIn prints a PACKET_IN as ovs-ofctl monitor does: the
// message line, then the frame decoded (see FormatPacket).
func FormatPacketIn(xid uint32, m *openflow.PacketIn) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPT_PACKET_IN", xid))
	if m.TableID != 0 {
		fmt.Fprintf(&b, " table_id=%d", m.TableID)
	}
	if m.Cookie != ^uint64(0) {
		fmt.Fprintf(&b, " cookie=0x%x", m.Cookie)
	}
	fmt.Fprintf(&b, " total_len=%d %s (via %s) data_len=%d", m.TotalLen,
		flowsyntax.FormatMatch(m.Match, openflow.DefaultPriority), packetInReason(m.Reason), len(m.Data))
	if m.BufferID == openflow.NoBuffer {
		b.WriteString(" (unbuffered)")
	} else {
		fmt.Fprintf(&b, " buffer=0x%08x", m.BufferID)
	}
	b.WriteString("\n" + FormatPacket(m.Data) + "\n")
	return b.String()
}

// FormatFlowRemoved prints a FLOW_REMOVED as ovs-ofctl monitor does.
func FormatFlowRemoved(xid uint32, m *openflow.FlowRemoved) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPT_FLOW_REMOVED", xid) + " ")
	b.WriteString(flowsyntax.FormatMatch(m.Match, int(m.Priority)))
	fmt.Fprintf(&b, " reason=%s", flowRemovedReason(m.Reason))
	if m.TableID != 255 {
		fmt.Fprintf(&b, " table_id=%d", m.TableID)
	}
	if m.Cookie != 0 {
		fmt.Fprintf(&b, " cookie:0x%x", m.Cookie)
	}
	fmt.Fprintf(&b, " duration%s idle%d", flowsyntax.FormatDuration(m.DurationSec, m.DurationNsec), m.IdleTimeout)
	if m.HardTimeout != 0 {
		fmt.Fprintf(&b, " hard%d", m.HardTimeout)
	}
	fmt.Fprintf(&b, " pkts%d bytes%d\n", m.PacketCount, m.ByteCount)
	return b.String()
}

var portReasons = []string{"ADD", "DEL", "MOD"}

// FormatPortStatus prints a PORT_STATUS as ovs-ofctl monitor does.
func FormatPortStatus(xid uint32, m *openflow.PortStatus) string {
	r := strconv.Itoa(int(m.Reason))
	if int(m.Reason) < len(portReasons) {
		r = portReasons[m.Reason]
	}
	return replyHeader("OFPT_PORT_STATUS", xid) + " " + r + ":" + FormatPort(&m.Desc)
}

// FormatMapContents prints goko's MAP_CONTENTS message (the result of a
// send_maps action).
func FormatMapContents(xid uint32, d *openflow.GokoMapDump, hexOnly bool) string {
	return fmt.Sprintf("GOKO_MAP_CONTENTS (xid=0x%x): prog=%d map=%s entries=%d\n", xid, d.ProgID, d.Map, len(d.Entries)) +
		formatMapEntries(d.Entries, hexOnly)
}

// monitorEvent is one message in monitor --json output (one JSON object
// per line).
type monitorEvent struct {
	Type        string         `json:"type"`
	Xid         uint32         `json:"xid"`
	InPort      string         `json:"in_port,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	Table       *uint8         `json:"table_id,omitempty"`
	Cookie      string         `json:"cookie,omitempty"`
	Match       *string        `json:"match,omitempty"`
	TotalLen    *uint16        `json:"total_len,omitempty"`
	BufferID    *uint32        `json:"buffer_id,omitempty"`
	Packet      string         `json:"packet,omitempty"`
	PacketHex   string         `json:"packet_hex,omitempty"`
	Priority    *uint16        `json:"priority,omitempty"`
	Duration    *float64       `json:"duration,omitempty"`
	IdleTimeout *uint16        `json:"idle_timeout,omitempty"`
	HardTimeout *uint16        `json:"hard_timeout,omitempty"`
	Packets     *uint64        `json:"packet_count,omitempty"`
	Bytes       *uint64        `json:"byte_count,omitempty"`
	Port        *jsonPort      `json:"port,omitempty"`
	Prog        *uint32        `json:"prog,omitempty"`
	Map         string         `json:"map,omitempty"`
	Entries     []jsonMapEntry `json:"entries,omitempty"`
	Error       string         `json:"error,omitempty"`
	Text        string         `json:"text,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func (c *cli) monitor(args []string) error {
	missLen := -1
	for _, a := range args[1:] {
		switch {
		case a == "invalid_ttl":
			// OpenFlow 1.3 has no INVALID_TTL_TO_CONTROLLER flag; the
			// switch sends these packet-ins anyway.
		default:
			n, err := strconv.Atoi(a)
			if err != nil || n < 0 || n > 0xffff {
				return usageErr("monitor: %q is not a miss length (0 to 65535)", a)
			}
			missLen = n
		}
	}
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	if missLen >= 0 {
		m, _, err := conn.Request(c.ctx, &openflow.GetConfigRequest{})
		if err != nil {
			return c.requestErr("get-config request", "", err)
		}
		cfg, ok := m.(*openflow.GetConfigReply)
		if !ok {
			return fmt.Errorf("switch answered GET_CONFIG_REQUEST with %v", m.Type())
		}
		sc := cfg.SwitchConfig
		sc.MissSendLen = uint16(missLen)
		if _, err := conn.Send(&openflow.SetConfig{SwitchConfig: sc}); err != nil {
			return err
		}
		if errs, err := conn.Barrier(c.ctx); err != nil || len(errs) > 0 {
			if len(errs) > 0 {
				return c.requestErr("set-config", "", errs[0])
			}
			return err
		}
	}
	ctx, stop := signal.NotifyContext(c.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	for {
		xid, msg, err := conn.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return nil // interrupted, or --timeout elapsed: a normal end
			}
			if msg == nil && xid != 0 || strings.HasPrefix(err.Error(), "bad") {
				fmt.Fprintf(c.errw, "ofctl: undecodable message (xid 0x%x): %v\n", xid, err)
				continue
			}
			var oe *openflow.Error
			if errors.As(err, &oe) {
				fmt.Fprintf(c.errw, "ofctl: undecodable message (xid 0x%x): %v\n", xid, err)
				continue
			}
			return err
		}
		if err := c.printEvent(xid, msg); err != nil {
			return err
		}
		if f, ok := c.out.(interface{ Sync() error }); ok {
			f.Sync()
		}
	}
}

func (c *cli) printEvent(xid uint32, msg openflow.Message) error {
	if c.json {
		return c.printJSONLine(monitorJSON(xid, msg))
	}
	var s string
	switch m := msg.(type) {
	case *openflow.PacketIn:
		s = FormatPacketIn(xid, m)
	case *openflow.FlowRemoved:
		s = FormatFlowRemoved(xid, m)
	case *openflow.PortStatus:
		s = FormatPortStatus(xid, m)
	case *openflow.ErrorMsg:
		s = replyHeader("OFPT_ERROR", xid) + " " + ofclient.ErrorName(m) + "\n"
		if m.Code.Type() == openflow.ETExperimenter {
			if t := errorText(m.Data); t != "" {
				s += t + "\n"
			}
		}
	case *openflow.Experimenter:
		if d, ok := mapContents(m); ok {
			s = FormatMapContents(xid, d, c.hex)
		} else {
			s = fmt.Sprintf("%s experimenter=0x%08x exp_type=%d data_len=%d\n", replyHeader("OFPT_EXPERIMENTER", xid), m.Experimenter, m.ExpType, len(m.Data))
		}
	default:
		s = replyHeader(msg.Type().String(), xid) + "\n"
	}
	_, err := fmt.Fprint(c.out, s)
	return err
}

func mapContents(m *openflow.Experimenter) (*openflow.GokoMapDump, bool) {
	if m.Experimenter != openflow.GokoExperimenter || m.ExpType != openflow.GokoMapContents {
		return nil, false
	}
	var d openflow.GokoMapDump
	if d.Unmarshal(m.Data) != nil {
		return nil, false
	}
	return &d, true
}

func monitorJSON(xid uint32, msg openflow.Message) monitorEvent {
	ev := monitorEvent{Type: msg.Type().String(), Xid: xid}
	switch m := msg.(type) {
	case *openflow.PacketIn:
		ev.Type = "packet_in"
		if o := m.Match.Field(openflow.OXMInPort); o != nil {
			ev.InPort = flowsyntax.FormatPort(o.Uint32())
		}
		ev.Reason, ev.Table, ev.Cookie = packetInReason(m.Reason), ptr(m.TableID), fmt.Sprintf("0x%x", m.Cookie)
		ev.Match, ev.TotalLen = ptr(flowsyntax.FormatMatch(m.Match, openflow.DefaultPriority)), ptr(m.TotalLen)
		if m.BufferID != openflow.NoBuffer {
			ev.BufferID = ptr(m.BufferID)
		}
		ev.Packet, ev.PacketHex = FormatPacket(m.Data), fmt.Sprintf("%x", m.Data)
	case *openflow.FlowRemoved:
		ev.Type = "flow_removed"
		ev.Reason, ev.Table, ev.Cookie = flowRemovedReason(m.Reason), ptr(m.TableID), fmt.Sprintf("0x%x", m.Cookie)
		ev.Priority, ev.Match = ptr(m.Priority), ptr(flowsyntax.FormatMatch(m.Match, openflow.DefaultPriority))
		ev.Duration = ptr(float64(m.DurationSec) + float64(m.DurationNsec)/1e9)
		ev.IdleTimeout, ev.HardTimeout, ev.Packets, ev.Bytes = ptr(m.IdleTimeout), ptr(m.HardTimeout), ptr(m.PacketCount), ptr(m.ByteCount)
	case *openflow.PortStatus:
		ev.Type = "port_status"
		ev.Reason = strconv.Itoa(int(m.Reason))
		if int(m.Reason) < len(portReasons) {
			ev.Reason = strings.ToLower(portReasons[m.Reason])
		}
		ev.Port = &jsonPorts([]openflow.Port{m.Desc})[0]
	case *openflow.ErrorMsg:
		ev.Type, ev.Error = "error", ofclient.ErrorName(m)
		if m.Code.Type() == openflow.ETExperimenter {
			ev.Text = errorText(m.Data)
		}
	case *openflow.Experimenter:
		if d, ok := mapContents(m); ok {
			ev.Type, ev.Prog, ev.Map, ev.Entries = "map_contents", ptr(d.ProgID), d.Map, jsonMapEntries(d.Entries)
		}
	}
	return ev
}
