// Package ctl is goko's ofctl: an OpenFlow 1.3 client and the commands of
// the ofctl tool, which behaves like `ovs-ofctl -O OpenFlow13`.
//
// Command line (see [Main]):
//
//	ofctl [--run-dir DIR] [--strict] [--no-stats] [--json] [-t SECS] [-O OpenFlow13]
//	      COMMAND TARGET [ARG...]
//
// where COMMAND is one of
//
//   - switch: show, dump-desc, dump-tables, dump-table-features,
//     dump-ports [PORT], dump-ports-desc [PORT], mod-port PORT ACTION,
//     packet-out, monitor [MISS-LEN], probe;
//   - flows: dump-flows [FLOW] (--sort/--rsort[=FIELD]), dump-aggregate
//     [FLOW], add-flow FLOW, add-flows FILE, mod-flows FLOW, del-flows
//     [FLOW], replace-flows FILE, diff-flows SOURCE1 SOURCE2;
//   - groups and meters: add-group, add-groups, mod-group, del-groups,
//     dump-groups, dump-group-stats, dump-group-features, add-meter,
//     mod-meter, del-meters, dump-meters, meter-stats, meter-features;
//   - goko's filter programs: load-filter-prog ID FILE.o [--prog NAME],
//     unload-filter-prog ID, dump-filter-progs [ID], dump-map ID MAP,
//     update-map ID MAP KEY VALUE [--flags any|noexist|exist],
//     delete-map-entry ID MAP KEY, and the offline tools "filter run",
//     "filter verify" and "filter conformance" (package ctl/filtercmd);
//   - help [COMMAND];
//
// and TARGET is a bridge name (the Unix socket
// RUN_DIR/BRIDGE.mgmt, RUN_DIR being --run-dir, $GOKO_RUN_DIR or
// /run/goko), tcp:HOST[:PORT] (default port 6653), ssl:HOST[:PORT] (with
// --private-key, --certificate and --ca-cert) or unix:PATH. Exit
// status: 0 success, 1 the switch returned an error or could not be
// reached, 2 bad usage or a bad flow string (reported before connecting);
// diff-flows exits with 2 when the sources differ. Switch errors are
// printed by name (OFPBMC_BAD_PREREQ, GOKO_VERIFIER, ...), with the text
// that goko's experimenter errors carry (such as the verifier's log).
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
// The pieces are usable on their own: package ofclient is the client
// connection (targets, HELLO exchange, xids, multipart replies, barriers,
// echo, the replace-flows diff), the Format*
// functions print replies, and package ctl/flowsyntax parses and prints
// flows.
package ctl
