// Package ctl is goko's ofctl: an OpenFlow 1.3 client and the commands of
// the ofctl tool, which behaves like `ovs-ofctl -O OpenFlow13`.
//
// Command line (see [Main]):
//
//	ofctl [--run-dir DIR] [--strict] [--no-stats] [--json] [-t SECS] [-O OpenFlow13]
//	      COMMAND TARGET [ARG...]
//
// where COMMAND is show, dump-desc, dump-tables, dump-ports [PORT],
// dump-ports-desc [PORT], dump-flows [FLOW], dump-aggregate [FLOW],
// add-flow FLOW, add-flows FILE, mod-flows FLOW, del-flows [FLOW], probe
// or help [COMMAND], and TARGET is a bridge name (the Unix socket
// RUN_DIR/BRIDGE.mgmt, RUN_DIR being --run-dir, $GOKO_RUN_DIR or
// /run/goko), tcp:HOST[:PORT] (default port 6653) or unix:PATH. Exit
// status: 0 success, 1 the switch returned an error or could not be
// reached, 2 bad usage or a bad flow string (reported before connecting).
//
// Output is ovs-ofctl's, byte for byte where the tests could check it
// against the real ovs-ofctl: replies are printed as OVS's ofp-print
// prints them (headers with xids included; ofctl numbers its requests as
// ovs-ofctl does), and dump-flows prints one " cookie=..." line per flow.
// One deliberate difference: dump-flows never prints the "OFPST_FLOW
// reply" header lines, which ovs-ofctl prints only when its output is not
// a terminal.
//
// Flow-modifying commands send their flow mods followed by a barrier and
// wait for it, so that errors are reported before ofctl exits; add-flows
// sends every flow of the file first and then a single barrier, and
// reports each rejected flow with its file and line.
//
// The pieces are usable on their own: [Conn] is the client connection
// (HELLO exchange, xids, multipart replies, barriers, echo), the Format*
// functions print replies, and package ctl/flowsyntax parses and prints
// flows.
package ctl
