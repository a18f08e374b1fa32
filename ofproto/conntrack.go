package ofproto

// Connection tracking (see datapath/conntrack.go) is exposed as one match
// field and one action, both under goko's experimenter id:
//
//   - ct_reply=ZONE, an experimenter OXM (class 0xFFFF, field 16, 4-byte
//     zone, no mask): the packet is a reply within a live connection that
//     was committed in ZONE. Like filter_prog, a flow whose other fields
//     match but whose ct_reply does not sends the lookup on to
//     lower-priority flows, and the datapath re-checks the result for
//     every packet of a cached megaflow.
//   - ct_commit(ZONE), an experimenter action (subtype 0x0100, then 2 bytes
//     of padding and the 4-byte zone): record the packet's connection in
//     ZONE. It translates to datapath.ActCTCommit (xlate.go).
//
// The encoders of both live in package openflow (goko.go).

import (
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// isCTReply reports whether o is goko's ct_reply field.
func isCTReply(o *openflow.OXM) bool {
	return o.Field == openflow.MakeField(openflow.OXMClassExperimenter, openflow.GokoFieldCTReply) && o.Experimenter == openflow.GokoExperimenter
}

// compileCTReply compiles a ct_reply match into fm.
func compileCTReply(o *openflow.OXM, fm *flowMatch) error {
	zone, ok := openflow.CTReplyZone(o)
	if !ok {
		return openflow.Errorf(openflow.BMCBadLen, "ct_reply: want a 4-byte zone and no mask")
	}
	fm.ct, fm.ctZone = true, zone
	return nil
}

// ctPass checks ct_reply=zone for the packet being translated, at most
// once per translation, and records the result in the megaflow's filter
// chain, as filterPass does for filter programs.
func (x *xlate) ctPass(zone uint32) bool {
	if x.b.dp == nil {
		return false
	}
	f := x.b.dp.Conntrack().ReplyFilter(zone)
	for _, fc := range x.t.Filters {
		if fc.Filter == f {
			return fc.Want
		}
	}
	res := f.Match(x.in)
	if x.tr != nil {
		x.tr.ctCheck(f, res)
	}
	x.t.Filters = append(x.t.Filters, datapath.FilterCheck{Filter: f, Want: res})
	return res
}
