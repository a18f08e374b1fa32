package ctl

import "github.com/goko-net/goko/openflow"

// normalHint explains a flow the switch refused because it outputs to
// NORMAL: goko has no built-in L2 learning switch, by design.
const normalHint = "NORMAL (the built-in L2 learning switch of Open vSwitch) is not supported by goko:\n" +
	"    run a learning controller instead, such as os-ken's simple_switch_13\n" +
	"    (switchd --controller tcp:127.0.0.1:6633 with osken-manager), write the\n" +
	"    forwarding flows yourself (output:PORT, FLOOD), or use netctl for tenant networks"

// hintFor returns advice for a request the switch refused with code, or ""
// when there is none.
func hintFor(m openflow.Message, code openflow.ErrorCode) string {
	if code == openflow.BACBadOutPort && outputsTo(m, openflow.PortNormal) {
		return normalHint
	}
	return ""
}

// outputsTo reports whether a flow-mod or packet-out has an output action
// to port, anywhere in its instructions.
func outputsTo(m openflow.Message, port uint32) bool {
	var lists [][]openflow.Action
	switch m := m.(type) {
	case *openflow.FlowMod:
		for _, in := range m.Instructions {
			switch in := in.(type) {
			case openflow.InstApplyActions:
				lists = append(lists, in.Actions)
			case openflow.InstWriteActions:
				lists = append(lists, in.Actions)
			}
		}
	case *openflow.PacketOut:
		lists = append(lists, m.Actions)
	}
	for _, l := range lists {
		for _, a := range l {
			if o, ok := a.(openflow.ActionOutput); ok && o.Port == port {
				return true
			}
		}
	}
	return false
}
