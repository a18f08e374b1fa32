// Package layering checks, on the module's source, the rules of goko's
// architecture that a reviewer would otherwise have to remember:
//
//   - Dependencies flow one way. openflow and ubpf know nothing of the
//     switch; datapath knows nothing of OpenFlow (it runs eBPF filter
//     programs itself, with ubpf, on a VM thread per pmd; other filters,
//     such as conntrack's, reach it through datapath.Filter); ofproto
//     knows no daemon, client or CLI; netctl and ofclient talk to
//     switches over OpenFlow and link none of the switch or of the ofctl
//     CLI (ctl); the header vocabulary depends on nothing of goko.
//   - One invalidation path. The datapath's caches are invalidated only
//     through Datapath.Revalidate and Datapath.Invalidate, which outside
//     package datapath only ofproto's Bridge.update calls (ofproto/change.go
//     explains why that makes a forgotten invalidation impossible); inside
//     the datapath a pmd's flow cache is emptied only by the pmd itself,
//     when it applies a revalidation or a new port set, or when it stops.
//
// The package holds only tests: they read the source (with
// go/parser, so they need neither a build nor the go command) and fail,
// naming file and line, on a violation. Fixtures under testdata show that
// each check can fail.
package layering
