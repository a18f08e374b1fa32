// Package flowsyntax reads and writes OpenFlow 1.3 flows in the text syntax
// of ovs-ofctl, so that goko's ofctl accepts the flow strings people already
// type at Open vSwitch and prints flows the way `ovs-ofctl -O OpenFlow13`
// does.
//
// Parsing turns a flow string into an *openflow.FlowMod ([ParseFlowMod]) or
// into a flow-stats filter ([ParseFlowStatsRequest]). Printing turns matches,
// instructions and flow statistics back into text ([FormatMatch],
// [FormatInstructions], [FormatFlowStats]).
//
// # Model
//
// OVS parses a flow into a "struct flow" plus wildcards, in which several
// OXM fields share one slot: tp_src is tcp_src, udp_src or sctp_src
// depending on nw_proto; nw_src is ipv4_src or arp_spa depending on
// dl_type; icmp_type is icmpv4_type or icmpv6_type. This package keeps that
// user-facing model: every key=value pair is recorded first, and only when
// the whole string has been read are the protocol-dependent names resolved
// to OXM fields, so "tp_dst=80,tcp" means the same as "tcp,tp_dst=80".
// Unlike OVS, which silently drops a field whose prerequisite is missing
// (and logs "normalization changed ofp_match"), a missing prerequisite is an
// error that says what to add.
//
// OXM fields are emitted in the order ovs-ofctl emits them, and the
// printer follows OVS's match_format order, so for the fields OVS knows the
// output is byte-for-byte what ovs-ofctl prints. Fields OVS does not know
// (in_phy_port, pbb_isid, ipv6_exthdr) are printed after the others under
// their OXM names.
//
// Invariants (checked by the fuzz test): parsing never panics; a FlowMod
// that parses encodes with openflow.Marshal; and printing it with
// [FormatFlowMod] and parsing the result gives an equal FlowMod.
//
// The package does no I/O and depends only on package openflow.
package flowsyntax
