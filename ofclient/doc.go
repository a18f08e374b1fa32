// Package ofclient is goko's OpenFlow 1.3 client library: what a tool or
// a controller needs to drive a switch, and nothing of the switch itself.
//
//   - Targets: tcp:HOST[:PORT], ssl:HOST[:PORT] (TLS with certificates on
//     both ends, see TLSFiles), unix:PATH, or a bridge name, which is the
//     bridge's management socket in the run directory (ParseTarget,
//     Connect).
//   - Conn: the HELLO exchange, xids, requests and their replies, multipart
//     replies collected across MORE, barriers that gather the errors of
//     the messages before them, echo (answered in the background, so a
//     long session survives the switch's keepalive).
//   - Errors: SwitchError and ErrorName, which names codes as ovs-ofctl
//     does (OFPBMC_BAD_PREREQ, GOKO_VERIFIER, ...).
//   - The flow diff (Diff): the fewest flow mods that make a switch's
//     flows a wanted set; ofctl's replace-flows and netctl both use it.
//
// ofctl (package ctl) and netctl are built on it; it imports only the
// wire codec (package openflow), so a client links no filter-program
// machinery.
package ofclient
