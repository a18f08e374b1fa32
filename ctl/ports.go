package ctl

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/openflow"
)

// mod-port and packet-out.

// portModActions are mod-port's actions: the config bit and whether the
// action sets it. "no-X" inverts X. stp, receive-stp and flood are
// OpenFlow 1.0 bits: as ovs-ofctl -O OpenFlow13 does, they are accepted
// but the PORT_MOD sent changes nothing.
var portModActions = map[string]struct {
	bit openflow.PortConfig
	on  bool
	of1 bool // OpenFlow 1.0 only
}{
	"up":          {openflow.PortConfigDown, false, false},
	"down":        {openflow.PortConfigDown, true, false},
	"receive":     {openflow.PortConfigNoRecv, false, false},
	"forward":     {openflow.PortConfigNoFwd, false, false},
	"packet-in":   {openflow.PortConfigNoPacketIn, false, false},
	"stp":         {0, false, true},
	"receive-stp": {0, false, true},
	"flood":       {0, false, true},
}

func (c *cli) modPort(args []string) error {
	act := strings.ToLower(args[2])
	name, neg := act, false
	if strings.HasPrefix(act, "no-") && act != "no-" {
		name, neg = act[3:], true
	}
	pa, ok := portModActions[name]
	if !ok || (neg && (name == "up" || name == "down")) {
		return usageErr("mod-port: unknown action %q (want up, down, receive, no-receive, forward, no-forward, packet-in, no-packet-in, flood, no-flood, stp, no-stp, receive-stp, no-receive-stp)", args[2])
	}
	s := &session{c: c, target: args[0]}
	defer s.close()
	conn, err := s.get()
	if err != nil {
		return err
	}
	ports, _, err := c.portDesc(conn)
	if err != nil {
		return err
	}
	names := map[string]uint32{}
	for _, p := range ports {
		names[p.Name] = p.PortNo
	}
	no, err := flowsyntax.ParsePort(args[1], &flowsyntax.Options{PortNames: names})
	if err != nil {
		return usageErr("mod-port: %v", err)
	}
	var port *openflow.Port
	for i := range ports {
		if ports[i].PortNo == no {
			port = &ports[i]
		}
	}
	if port == nil {
		return &exitError{ExitFailed, fmt.Errorf("mod-port: the switch has no port %s", args[1])}
	}
	pm := &openflow.PortMod{PortNo: port.PortNo, HWAddr: port.HWAddr}
	if pa.of1 {
		fmt.Fprintf(c.errw, "ofctl: warning: %s is an OpenFlow 1.0 port setting; in OpenFlow 1.3 the PORT_MOD changes nothing\n", act)
	} else {
		on := pa.on != neg
		pm.Mask = pa.bit
		if on {
			pm.Config = pa.bit
		}
	}
	return c.sendFlowMods(s, []flowReq{{msg: pm, kind: "port-mod", text: args[1] + " " + args[2]}})
}

// parseHexPacket reads a packet written in hex, with optional spaces or
// colons between bytes and an optional 0x.
func parseHexPacket(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	s = strings.NewReplacer(" ", "", "\t", "", "\n", "", ":", "", ".", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("packet: not hex: %v", err)
	}
	if len(b) < 14 {
		return nil, fmt.Errorf("packet: %d bytes is too short for Ethernet", len(b))
	}
	return b, nil
}

// parsePacketOut parses ovs-ofctl's packet-out syntax:
// "in_port=PORT packet=HEX actions=ACTIONS".
func parsePacketOut(s string, opts *flowsyntax.Options) (*openflow.PacketOut, error) {
	po := &openflow.PacketOut{BufferID: openflow.NoBuffer}
	head, acts := s, ""
	if i := strings.Index(s, "actions="); i >= 0 {
		head, acts = s[:i], s[i+len("actions="):]
	} else if i := strings.Index(s, "action="); i >= 0 {
		head, acts = s[:i], s[i+len("action="):]
	}
	hasPort, hasPacket := false, false
	for _, f := range strings.FieldsFunc(head, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "in_port":
			if strings.EqualFold(v, "none") {
				po.InPort = openflow.PortAny
			} else {
				po.InPort, err = flowsyntax.ParsePort(v, opts)
			}
			hasPort = true
		case "packet":
			po.Data, err = parseHexPacket(v)
			hasPacket = true
		default:
			err = fmt.Errorf("unknown keyword %s (want in_port, packet and actions)", k)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasPort {
		return nil, errors.New("must specify in_port")
	}
	if !hasPacket {
		return nil, errors.New("must specify packet")
	}
	var err error
	po.Actions, err = flowsyntax.ParseActions(acts, opts)
	return po, err
}

func (c *cli) packetOut(args []string) error {
	s := &session{c: c, target: args[0]}
	defer s.close()
	var pos []*openflow.PacketOut
	err := s.parse(func(o *flowsyntax.Options) error {
		pos = nil
		if len(args) == 2 {
			po, err := parsePacketOut(args[1], o)
			if err != nil {
				return fmt.Errorf("packet-out %q: %w", args[1], err)
			}
			pos = append(pos, po)
			return nil
		}
		if len(args) < 4 {
			return errors.New("packet-out: want TARGET \"in_port=N packet=HEX actions=ACTIONS\" or TARGET IN_PORT ACTIONS PACKET")
		}
		port, err := flowsyntax.ParsePort(args[1], o)
		if strings.EqualFold(args[1], "none") {
			port, err = openflow.PortAny, nil
		}
		if err != nil {
			return fmt.Errorf("packet-out: in_port: %w", err)
		}
		acts, err := flowsyntax.ParseActions(args[2], o)
		if err != nil {
			return err
		}
		for _, p := range args[3:] {
			data, err := parseHexPacket(p)
			if err != nil {
				return err
			}
			pos = append(pos, &openflow.PacketOut{BufferID: openflow.NoBuffer, InPort: port, Actions: acts, Data: data})
		}
		return nil
	})
	if err != nil {
		return err
	}
	reqs := make([]flowReq, len(pos))
	for i, po := range pos {
		reqs[i] = flowReq{msg: po, kind: "packet-out", text: flowsyntax.FormatActions(po.Actions)}
	}
	return c.sendFlowMods(s, reqs)
}
