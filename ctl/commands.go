package ctl

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/goko-net/goko/ctl/filtercmd"
	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/internal/version"
	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/openflow"
)

// Exit statuses of ofctl.
const (
	ExitOK     = 0 // success
	ExitFailed = 1 // the switch returned an error, or the connection failed
	ExitUsage  = 2 // bad command line or bad flow string
)

// exitError is an error with the exit status it causes.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{ExitUsage, fmt.Errorf(format, args...)}
}

// secondsValue is the --timeout flag: whole seconds, as ovs-ofctl takes
// it, or a Go duration.
type secondsValue time.Duration

func (v *secondsValue) String() string {
	if *v == 0 {
		return ""
	}
	return time.Duration(*v).String()
}

func (v *secondsValue) Set(s string) error {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		*v = secondsValue(time.Duration(n) * time.Second)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("bad timeout %q (want seconds or a duration such as 1.5s)", s)
	}
	*v = secondsValue(d)
	return nil
}

func (v *secondsValue) Type() string { return "SECS" }

// cli is one run of ofctl.
type cli struct {
	stdin     io.Reader
	out, errw io.Writer
	runDir    string
	strict    bool
	noStats   bool
	json      bool
	hex       bool
	readd     bool
	progName  string
	runBudget uint64
	// trace's packet sources
	tracePacket, tracePcap string
	mapFlags               string
	sortKeys               []sortKey
	timeout                time.Duration
	ctx                    context.Context
	tlsFiles               ofclient.TLSFiles
	tls                    *tls.Config // for ssl: targets; nil without --private-key etc.
}

// command is one ofctl command.
type command struct {
	group    string
	name     string
	args     string // synopsis of the arguments after the command
	min, max int    // number of arguments, TARGET included
	summary  string
	help     string // longer help for "ofctl help COMMAND"
	run      func(c *cli, args []string) error
}

var commands []*command

// Command groups, for the usage text.
const (
	groupSwitch = "Switch"
	groupFlows  = "Flows"
	groupGroups = "Groups and meters"
	groupFilter = "Filter programs (goko)"
	groupDiag   = "Diagnostics (goko)"
	groupOther  = "Other"
)

func init() {
	commands = []*command{
		{groupSwitch, "show", "TARGET", 1, 1, "show OpenFlow information",
			"Prints the switch's features (datapath id, tables, capabilities), its ports\nand its configuration, as ovs-ofctl show does.", (*cli).show},
		{groupSwitch, "dump-desc", "TARGET", 1, 1, "print switch description", "Prints the switch's manufacturer, hardware, software, serial number and\ndatapath description.", (*cli).dumpDesc},
		{groupSwitch, "dump-tables", "TARGET", 1, 1, "print table stats", "Prints the flow count and lookup/match counters of every table; a table\nwhose counters equal the previous table's is printed as \"ditto\".", (*cli).dumpTables},
		{groupSwitch, "dump-table-features", "TARGET", 1, 1, "print table features",
			"Prints what each table supports: metadata bits, size, instructions, next\ntables, actions, set-field and match fields. A table like the previous one\nis \"ditto\"; fields use OVS's names, condensed as eth_{src,dst}.", (*cli).dumpTableFeatures},
		{groupSwitch, "dump-ports", "TARGET [PORT]", 1, 2, "print port statistics", "Prints the packet, byte, drop and error counters of every port, or of PORT.", (*cli).dumpPorts},
		{groupSwitch, "dump-ports-desc", "TARGET [PORT]", 1, 2, "print port descriptions", "Prints the description (name, address, config, state, speed) of every port,\nor of PORT.", (*cli).dumpPortsDesc},
		{groupSwitch, "mod-port", "TARGET PORT ACTION", 3, 3, "modify port behavior",
			"Changes the configuration of PORT (a number, name or LOCAL). ACTION is one of\n  up, down                 bring the port up or down (OFPPC_PORT_DOWN)\n  receive, no-receive      process or drop received packets (OFPPC_NO_RECV)\n  forward, no-forward      allow or forbid output to the port (OFPPC_NO_FWD)\n  packet-in, no-packet-in  allow or forbid packet-ins from it (OFPPC_NO_PACKET_IN)\n  flood, no-flood, stp, no-stp, receive-stp, no-receive-stp\n                           OpenFlow 1.0 settings: accepted, but as with\n                           ovs-ofctl -O OpenFlow13 the PORT_MOD changes nothing.", (*cli).modPort},
		{groupSwitch, "packet-out", "TARGET PACKET-OUT | TARGET IN_PORT ACTIONS PACKET...", 2, 64, "execute actions on a packet",
			"Sends a packet for the switch to run ACTIONS on, in ovs-ofctl's syntax:\n  ofctl packet-out br0 \"in_port=1 packet=HEX actions=output:2\"\n  ofctl packet-out br0 1 output:2 HEX [HEX...]\nHEX is the Ethernet frame in hex (\"ffffffffffff0200...\"); in_port may be a\nport, LOCAL, CONTROLLER or NONE.", (*cli).packetOut},
		{groupSwitch, "monitor", "TARGET [MISS-LEN] [invalid_ttl]", 1, 3, "print packet-ins and other async messages",
			"Connects to the switch and prints the asynchronous messages it sends until\ninterrupted (or until --timeout): packet-ins, with the frame decoded as\novs-ofctl does (tcp,vlan_tci=...,nw_src=...,tp_dst=...), flow-removed,\nport-status, errors, and goko's MAP_CONTENTS (from send_maps actions).\nMISS-LEN sets miss_send_len first. --json prints one JSON object per line;\n--hex prints map keys and values in hex.", (*cli).monitor},
		{groupSwitch, "probe", "TARGET", 1, 1, "probe whether TARGET is up", "Sends an echo request and waits for the reply.", (*cli).probe},

		{groupFlows, "dump-flows", "TARGET [FLOW]", 1, 2, "print all flow entries", "Prints the flows that FLOW selects (all flows without FLOW). FLOW may give\nmatch fields, table=N, cookie=VALUE/MASK, out_port and out_group.\nAs with ovs-ofctl, when the output is not a terminal each reply message\nstarts with a header line (\"OFPST_FLOW reply (OF1.3) (xid=0x2):\").\n--no-stats leaves out the duration, the counters and the headers. --sort[=FIELD] and\n--rsort[=FIELD] (repeatable) sort by a match field or by priority (the\ndefault); flows without the field come last.", (*cli).dumpFlows},
		{groupFlows, "dump-aggregate", "TARGET [FLOW]", 1, 2, "print aggregate flow statistics", "Prints the packet, byte and flow counts summed over the flows FLOW selects.", (*cli).dumpAggregate},
		{groupFlows, "add-flow", "TARGET FLOW", 2, 2, "add flow described by FLOW", "Adds one flow, for example:\n  ofctl add-flow br0 \"priority=10,tcp,tp_dst=80 actions=output:2\"\n  ofctl add-flow br0 \"priority=20,in_port=1,filter_prog=1 actions=send_maps(prog=1,map=counters),output:2\"", (*cli).addFlow},
		{groupFlows, "add-flows", "TARGET FILE", 2, 2, "add flows from FILE (\"-\": stdin)",
			"Adds the flows in FILE, one per line; \"#\" starts a comment. A line may\nstart with add, modify, modify_strict, delete or delete_strict. All flows\nare sent at once, followed by one barrier.", (*cli).addFlows},
		{groupFlows, "mod-flows", "TARGET FLOW", 2, 2, "modify actions of matching FLOWs", "Replaces the actions of the flows FLOW matches (exactly, with its priority,\nwith --strict).", (*cli).modFlows},
		{groupFlows, "del-flows", "TARGET [FLOW]", 1, 2, "delete matching FLOWs", "Deletes the flows FLOW matches (all flows without FLOW; exactly FLOW with\nits priority, with --strict).", (*cli).delFlows},
		{groupFlows, "replace-flows", "TARGET FILE", 2, 2, "make the flow table equal to FILE",
			"Reads the flows in FILE (\"-\": stdin) and the switch's flows, then deletes\nthe switch's flows that FILE lacks and adds those of FILE that are missing\nor differ (in actions, cookie, timeouts or flags). A flow is identified by\ntable, priority and match. With --readd, every flow of FILE is added.", (*cli).replaceFlows},
		{groupFlows, "diff-flows", "SOURCE1 SOURCE2", 2, 2, "compare flows from two sources",
			"Prints the flows only in SOURCE1 with \"-\", those only in SOURCE2 with \"+\",\nand both versions of flows that differ in actions, cookie or timeouts.\nA source is a file or a switch: a name starting with / or . is a file, one\nwith a ':' a switch (tcp:, unix:), otherwise a file if it exists, else a\nbridge. Exit status 0: no differences, 2: differences, 1: error.", (*cli).diffFlows},

		{groupGroups, "add-group", "TARGET GROUP", 2, 2, "add group entry",
			"Adds a group, in ovs-ofctl's syntax:\n  group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2\n  group_id=2,type=all,bucket=actions=output:1,bucket=actions=output:2\n  group_id=3,type=indirect,bucket=actions=set_field:00:00:00:00:00:01->eth_dst,output:3\n  group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2\ntype is all, select, indirect or ff (fast_failover); a select bucket's\nweight defaults to 1; watch_group:N watches a group. Flows use a group\nwith the action group:N.", (*cli).addGroup},
		{groupGroups, "add-groups", "TARGET FILE", 2, 2, "add groups from FILE (\"-\": stdin)", "Adds the groups in FILE, one per line (as add-group takes them).", (*cli).addGroups},
		{groupGroups, "mod-group", "TARGET GROUP", 2, 2, "modify a group entry", "Replaces the type and buckets of group group_id (same syntax as add-group).", (*cli).modGroup},
		{groupGroups, "del-groups", "TARGET [GROUP]", 1, 2, "delete group entries", "Deletes group_id=N (all groups without GROUP, or with group_id=all).", (*cli).delGroups},
		{groupGroups, "dump-groups", "TARGET [GROUP]", 1, 2, "print group entries", "Prints every group, or group_id=N, as ovs-ofctl does (the output parses back\nwith add-group).", (*cli).dumpGroups},
		{groupGroups, "dump-group-stats", "TARGET [GROUP]", 1, 2, "print group statistics", "Prints the packet and byte counters of every group (or group_id=N) and of\ntheir buckets.", (*cli).dumpGroupStats},
		{groupGroups, "dump-group-features", "TARGET", 1, 1, "print group features", "Prints the group types, capabilities and limits the switch supports.", (*cli).dumpGroupFeatures},
		{groupGroups, "add-meter", "TARGET METER", 2, 2, "add meter entry",
			"Adds a meter, in ovs-ofctl's syntax:\n  meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100\n  meter=2,pktps,bands=type=drop,rate=10,type=dscp_remark,rate=5,prec_level=1\nkbps or pktps is required; burst and stats are optional. Flows use a meter\nwith the instruction meter:N (first in the action list).", (*cli).addMeter},
		{groupGroups, "mod-meter", "TARGET METER", 2, 2, "modify a meter entry", "Replaces the flags and bands of meter=N (same syntax as add-meter).", (*cli).modMeter},
		{groupGroups, "del-meters", "TARGET [METER]", 1, 2, "delete meter entries", "Deletes meter=N (all meters without METER, or with meter=all).", (*cli).delMeters},
		{groupGroups, "dump-meters", "TARGET [METER]", 1, 2, "print meter configuration", "Prints every meter (or meter=N) with its flags and bands.", (*cli).dumpMeters},
		{groupGroups, "meter-stats", "TARGET [METER]", 1, 2, "print meter statistics", "Prints the counters of every meter (or meter=N) and of their bands.", (*cli).meterStats},
		{groupGroups, "meter-features", "TARGET", 1, 1, "print meter features", "Prints the meter limits, band types and capabilities of the switch.", (*cli).meterFeatures},

		{groupFilter, "load-filter-prog", "TARGET ID FILE.o", 3, 3, "load (or replace) a filter program",
			"Loads the eBPF program in the ELF object FILE.o (built with clang -O2 -g\n-target bpf) as filter program ID, replacing a program already loaded with\nthat id without losing packets. --prog NAME picks a program (function or\nsection name) of the object; the default is its first. --run-budget N\nbounds the instructions one run may execute: a run that exhausts it ends as\nno match (and counts as an error). Objects larger than\none OpenFlow message are sent in chunks. Prints the loaded program's\ninstruction count and maps. A verifier rejection (GOKO_VERIFIER) prints the\nverifier's log. Flows use the program with the match field filter_prog=ID.", (*cli).loadFilterProg},
		{groupFilter, "unload-filter-prog", "TARGET ID", 2, 2, "unload a filter program", "Unloads filter program ID. The switch refuses (GOKO_PROG_IN_USE) while\nflows still match on filter_prog=ID.", (*cli).unloadFilterProg},
		{groupFilter, "dump-filter-progs", "TARGET [ID]", 1, 2, "print filter programs and their maps",
			"Prints each loaded program (or program ID): id, name, instruction count,\nnumber of maps, runs, matches, errors (runs stopped by a fault) and the\naverage run time in ns; then each program's maps: type, key and value\nsizes, entries and max entries.", (*cli).dumpFilterProgs},
		{groupFilter, "dump-map", "TARGET ID MAP", 3, 3, "print a map of a filter program",
			"Prints the entries of map MAP of program ID, one \"key=K value=V\" per line.\nKeys and values of 1, 2, 4 or 8 bytes print as decimal numbers (read\nlittle-endian, as the program sees them); others as 0x and hex bytes.\n--hex prints everything as 0xHEX; --json gives hex and integers. Both\nforms are accepted back by update-map.", (*cli).dumpMap},
		{groupFilter, "update-map", "TARGET ID MAP KEY VALUE", 5, 5, "write a map entry",
			"Writes KEY=VALUE into map MAP of program ID. --flags any (default: create\nor replace), noexist (create only) or exist (replace only). KEY and VALUE:\n  5, 100            a decimal number, as wide as the map's key or value\n                    (little-endian, as the program reads it)\n  10.0.0.1          an IPv4 address (4 bytes, network order)\n  0x0a000001        bytes in hex, in order\n  \"0a 00 00 01\"     hex bytes separated by spaces or colons\n  u8:N u16:N u32:N u64:N   little-endian integers\n  be16:N be32:N be64:N     network-order integers\n  ip:A.B.C.D ip6:ADDR mac:XX:XX:XX:XX:XX:XX str:TEXT\n  lpm:10.0.0.0/8    an LPM trie key (u32 prefix length, then the address)\nTyped parts joined by commas are concatenated: u32:1,ip:10.0.0.1.", (*cli).updateMap},
		{groupFilter, "delete-map-entry", "TARGET ID MAP KEY", 4, 4, "delete a map entry", "Deletes KEY (written as for update-map) from map MAP of program ID.", (*cli).deleteMapEntry},
		{groupFilter, "filter", "run|verify|conformance ARGS...", 0, 0, "offline filter tools (no switch)",
			"Runs goko's eBPF VM offline, without a switch:\n  ofctl filter run PROG.o [--prog NAME] [--kind filter|xdp|raw] [--vm jit|interp|auto] (--packet HEX ... | --pcap FILE)\n  ofctl filter verify PROG.o [--prog NAME] [--kind K] [--vm E] [--disasm]\n  ofctl filter conformance [MEMORY] [--elf] [--vm E]   (the bpf_conformance plugin)\nrun prints each packet's verdict and the maps at the end; verify runs the\nverifier and prints its log. --vm chooses the engine: the JIT (amd64) or the\ninterpreter; auto, the default, is the JIT where there is one.", nil},

		{groupDiag, "trace", "TARGET FLOW", 2, 2, "trace a packet through the pipeline",
			"Shows what the switch does with a packet, like ovs-appctl ofproto/trace: each\ntable it visits and the flow that matched (priority, cookie, match), each\naction and the datapath actions it gives, group buckets, meters, and for every\nfilter program run its verdict, the instructions it executed and the map\nentries it read and wrote; then the megaflow the datapath would cache (key and\nmask, filter chain, actions). The packet is built from FLOW's fields, e.g.\n  ofctl trace br0 in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,icmp_type=8\nor given whole, FLOW then naming only the input port:\n  ofctl trace br0 in_port=1 --packet 0200000000020200000000010800...\n  ofctl trace br0 in_port=1 --pcap capture.pcap   (every packet of the file)\nNothing is forwarded or cached, but filter programs really run: their maps\nchange as they would for this packet. --json prints the trace as JSON.", (*cli).trace},
		{groupDiag, "dump-megaflows", "TARGET", 1, 1, "print the datapath's cached megaflows",
			"Prints every megaflow the datapath's poll-mode threads have cached, like\novs-appctl dpctl/dump-flows: the pmd, key and mask (a field not shown is\nwildcarded), the filter chain it re-checks, packets, bytes, the time since its\nlast hit and its datapath actions.", (*cli).dumpMegaflows},
		{groupDiag, "pmd-stats-show", "TARGET", 1, 1, "print the poll-mode threads' cache counters",
			"Prints, for each poll-mode thread, like ovs-appctl dpif-netdev/pmd-stats-show:\npackets received, exact-match cache hits, megaflow hits, misses, upcalls\n(misses translated by the OpenFlow pipeline), lost upcalls (over the upcall\nrate limit, or failed) and the megaflows cached.", (*cli).pmdStatsShow},
		{groupDiag, "set-log-level", "TARGET [LEVEL]", 1, 2, "change switchd's log level",
			"Sets the log level of the switchd that runs TARGET to debug, info, warn or\nerror, at once and without a restart, and prints it; without LEVEL, prints\nthe current level. At debug, switchd logs every flow-mod, packet-in and upcall\n(cache miss, with the megaflow it gave). Only the management socket (a bridge\nname as TARGET) may change the level.", (*cli).setLogLevel},

		{groupOther, "help", "[COMMAND]", 0, 1, "show help for ofctl or COMMAND", "", nil},
	}
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func usage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintf(w, `ofctl: OpenFlow 1.3 switch management utility for goko
usage: ofctl [OPTIONS] COMMAND TARGET [ARG...]

Commands:
`)
	group := ""
	for _, c := range commands {
		if c.group != group {
			if group != "" {
				fmt.Fprintln(w)
			}
			group = c.group
			fmt.Fprintf(w, " %s:\n", group)
		}
		syn := c.name + " " + c.args
		if len(syn) > 36 {
			fmt.Fprintf(w, "  %s\n  %-36s %s\n", syn, "", c.summary)
		} else {
			fmt.Fprintf(w, "  %-36s %s\n", syn, c.summary)
		}
	}
	fmt.Fprintf(w, `
TARGET is a bridge name (its management socket RUN_DIR/BRIDGE.mgmt),
tcp:HOST[:PORT] (port 6653 by default) or unix:PATH.

FLOW uses ovs-ofctl's syntax, e.g. "priority=10,ip,nw_dst=10.0.0.0/24 actions=output:2",
plus goko's match fields filter_prog=ID, ct_reply=ZONE, tun_src and tun_dst, and
actions send_maps(prog=ID[,map=NAME]...) and ct_commit(ZONE). Fields and actions
without a name are written oxm(CLASS,FIELD)=0xVALUE[/0xMASK],
oxm(0xffff,exp=ID,FIELD)=0xVALUE and experimenter(0xID,0xBODY).
"ofctl help COMMAND" explains a command.

Options:
%s
Exit status: 0 on success, 1 if the switch reported an error or could not
be reached, 2 for a bad command line or flow.
`, fs.FlagUsages())
}

// commandHelp prints the help of one command ("ofctl help CMD", "ofctl CMD
// --help").
func commandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: ofctl [OPTIONS] %s %s\n  %s\n\n%s\n", c.name, c.args, c.summary, c.help)
}

// Main runs ofctl with the given arguments (without the program name)
// and returns its exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, out: stdout, errw: stderr}
	fs := pflag.NewFlagSet("ofctl", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runDir := os.Getenv("GOKO_RUN_DIR")
	if runDir == "" {
		runDir = ofclient.DefaultRunDir
	}
	fs.StringVar(&c.runDir, "run-dir", runDir, "directory of the bridges' management sockets (env GOKO_RUN_DIR)")
	fs.BoolVar(&c.strict, "strict", false, "mod-flows, del-flows: match the flow exactly, priority included")
	fs.BoolVar(&c.noStats, "no-stats", false, "dump-flows: leave out duration and counters")
	fs.BoolVar(&c.json, "json", false, "print replies as JSON (show, the dump-* commands, monitor, ...)")
	fs.BoolVar(&c.hex, "hex", false, "dump-map, monitor: print map keys and values as raw hex")
	fs.BoolVar(&c.readd, "readd", false, "replace-flows: add every flow of the file, even unchanged ones")
	fs.StringVar(&c.progName, "prog", "", "load-filter-prog: the program (function or section) to load from the object")
	fs.Uint64Var(&c.runBudget, "run-budget", 0, "load-filter-prog: instructions one run may execute (default: the switch's, 1048576 unless configured)")
	fs.StringVar(&c.mapFlags, "flags", "any", "update-map: any, noexist (create only) or exist (replace only)")
	fs.StringVar(&c.tracePacket, "packet", "", "trace: the packet to trace, an Ethernet frame in hex")
	fs.StringVar(&c.tracePcap, "pcap", "", "trace: trace every packet of this pcap file")
	fs.Var(sortValue{&c.sortKeys, false}, "sort", "dump-flows: sort by FIELD (or priority) ascending; repeatable")
	fs.Lookup("sort").NoOptDefVal = "priority"
	fs.Var(sortValue{&c.sortKeys, true}, "rsort", "dump-flows: sort by FIELD (or priority) descending; repeatable")
	fs.Lookup("rsort").NoOptDefVal = "priority"
	fs.StringVarP(&c.tlsFiles.PrivateKey, "private-key", "p", "", "ssl: targets: PEM private key of ofctl")
	fs.StringVarP(&c.tlsFiles.Certificate, "certificate", "c", "", "ssl: targets: PEM certificate of ofctl, signed by a CA the switch trusts")
	fs.StringVarP(&c.tlsFiles.CACert, "ca-cert", "C", "", "ssl: targets: PEM certificate of the CA that signs the switch's certificate")
	listCommands := fs.Bool("list-commands", false, "list the command names (for shell completion)")
	fs.Lookup("list-commands").Hidden = true
	fs.VarP((*secondsValue)(&c.timeout), "timeout", "t", "give up after SECS seconds (or a duration such as 500ms; default: wait forever)")
	protocols := fs.StringP("protocols", "O", "OpenFlow13", "OpenFlow versions to allow; only OpenFlow13 is supported")
	help := fs.BoolP("help", "h", false, "show this help (after a command: that command's help)")
	showVersion := fs.BoolP("version", "V", false, "print ofctl's version (from its build information)")
	if i := filterCommand(args); i >= 0 {
		return runFilter(args[i+1:], stdin, stdout, stderr)
	}
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "ofctl: %v (use --help for help)\n", err)
		return ExitUsage
	}
	if *help {
		if r := fs.Args(); len(r) > 0 && findCommand(r[0]) != nil {
			commandHelp(stdout, findCommand(r[0]))
		} else {
			usage(stdout, fs)
		}
		return ExitOK
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Line("ofctl"))
		return ExitOK
	}
	if *listCommands {
		for _, cmd := range commands {
			fmt.Fprintln(stdout, cmd.name)
		}
		return ExitOK
	}
	if !strings.Contains(","+strings.ToLower(*protocols)+",", ",openflow13,") {
		fmt.Fprintf(stderr, "ofctl: -O %s: ofctl speaks only OpenFlow13\n", *protocols)
		return ExitUsage
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "ofctl: missing command name; use --help for help")
		return ExitUsage
	}
	cmd := findCommand(rest[0])
	if cmd == nil {
		fmt.Fprintf(stderr, "ofctl: unknown command '%s'; use --help for help\n", rest[0])
		return ExitUsage
	}
	cargs := rest[1:]
	if len(cargs) < cmd.min || len(cargs) > cmd.max {
		want := fmt.Sprintf("%d to %d", cmd.min, cmd.max)
		if cmd.min == cmd.max {
			want = fmt.Sprint(cmd.min)
		}
		fmt.Fprintf(stderr, "ofctl: '%s' takes %s argument(s) (usage: ofctl %s %s)\n", cmd.name, want, cmd.name, cmd.args)
		return ExitUsage
	}
	if cmd.name == "help" {
		if len(cargs) == 0 {
			usage(stdout, fs)
			return ExitOK
		}
		hc := findCommand(cargs[0])
		if hc == nil {
			fmt.Fprintf(stderr, "ofctl: unknown command '%s'; use --help for help\n", cargs[0])
			return ExitUsage
		}
		commandHelp(stdout, hc)
		return ExitOK
	}
	ctx := context.Background()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	c.ctx = ctx
	if !c.tlsFiles.Empty() {
		conf, err := c.tlsFiles.Config()
		if err != nil {
			fmt.Fprintf(stderr, "ofctl: %v\n", err)
			return ExitUsage
		}
		c.tls = conf
	}
	if err := cmd.run(c, cargs); err != nil {
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(stderr, "ofctl: %v\n", err)
		}
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return ExitFailed
	}
	return ExitOK
}

// errSilent is an error that sets the exit status and prints nothing
// (diff-flows finding differences).
var errSilent = errors.New("")

// filterCommand returns the index of "filter" in args when it is the
// command (the first argument that is not an option or an option's
// value), else -1. Its arguments are passed to ctl/filtercmd untouched.
func filterCommand(args []string) int {
	withValue := map[string]bool{"--run-dir": true, "-t": true, "--timeout": true, "-O": true, "--protocols": true,
		"--prog": true, "--flags": true, "--packet": true, "--pcap": true, "--run-budget": true,
		"-p": true, "--private-key": true, "-c": true, "--certificate": true, "-C": true, "--ca-cert": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) && args[i+1] == "filter" {
				return i + 1
			}
			return -1
		case strings.HasPrefix(a, "-") && a != "-":
			if withValue[a] {
				i++
			}
		case a == "filter":
			return i
		default:
			return -1
		}
	}
	return -1
}

// runFilter runs "ofctl filter SUBCOMMAND ARGS...".
func runFilter(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const use = "usage: ofctl filter run|verify|conformance ARGS... (ofctl help filter)"
	if len(args) == 0 {
		fmt.Fprintln(stderr, use)
		return ExitUsage
	}
	for _, a := range args {
		if a == "--help" || a == "-h" {
			commandHelp(stdout, findCommand("filter"))
			return ExitOK
		}
	}
	switch args[0] {
	case "run":
		return filtercmd.Run(args[1:], stdin, stdout, stderr)
	case "verify":
		return filtercmd.Verify(args[1:], stdin, stdout, stderr)
	case "conformance":
		return filtercmd.Conformance(args[1:], stdin, stdout, stderr)
	case "help":
		commandHelp(stdout, findCommand("filter"))
		return ExitOK
	}
	fmt.Fprintf(stderr, "ofctl: unknown filter command %q\n%s\n", args[0], use)
	return ExitUsage
}

// dial connects to the target.
func (c *cli) dial(target string) (*ofclient.Conn, error) {
	conn, err := ofclient.Connect(c.ctx, target, ofclient.Options{RunDir: c.runDir, TLS: c.tls})
	var te *ofclient.TargetError
	if errors.As(err, &te) {
		return nil, usageErr("%v", err)
	}
	return conn, err
}

// session is a lazily opened connection: flow strings are parsed before
// connecting, and port names are looked up only when a flow uses one.
type session struct {
	c      *cli
	target string
	conn   *ofclient.Conn
	names  map[string]uint32
}

func (s *session) get() (*ofclient.Conn, error) {
	if s.conn == nil {
		conn, err := s.c.dial(s.target)
		if err != nil {
			return nil, err
		}
		s.conn = conn
	}
	return s.conn, nil
}

func (s *session) close() {
	if s.conn != nil {
		s.conn.Close()
	}
}

// portNames fetches the switch's port names (PORT_DESC) once.
func (s *session) portNames() (map[string]uint32, error) {
	if s.names != nil {
		return s.names, nil
	}
	conn, err := s.get()
	if err != nil {
		return nil, err
	}
	bodies, _, err := conn.Multipart(s.c.ctx, &openflow.PortDescRequest{})
	if err != nil {
		return nil, s.c.requestErr("port description request", "", err)
	}
	s.names = map[string]uint32{}
	for _, b := range bodies {
		for _, p := range b.(*openflow.PortDescReply).Ports {
			s.names[p.Name] = p.PortNo
		}
	}
	return s.names, nil
}

// parse runs fn, and if it fails only because of an unknown port name,
// runs it again with the switch's port names.
func (s *session) parse(fn func(opts *flowsyntax.Options) error) error {
	err := fn(nil)
	var upe *flowsyntax.UnknownPortError
	if err == nil || !errors.As(err, &upe) {
		return flowErr(err)
	}
	names, nerr := s.portNames()
	if nerr != nil {
		return nerr
	}
	return flowErr(fn(&flowsyntax.Options{PortNames: names}))
}

func flowErr(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{ExitUsage, err}
}

// requestErr describes a failed request. what names it ("flow-mod"),
// flow is the flow string it came from, if any.
// query dials target, sends one multipart request and returns the
// replies, with a switch error already turned into ofctl's message. skip
// numbers the request as ovs-ofctl would after skip earlier requests, so
// printed xids agree with its output.
func (c *cli) query(target, what string, skip int, body openflow.MultipartBody) ([]openflow.MultipartBody, uint32, error) {
	conn, err := c.dial(target)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	for range skip {
		conn.SkipXID()
	}
	bodies, xid, err := conn.Multipart(c.ctx, body)
	if err != nil {
		return nil, xid, c.requestErr(what, "", err)
	}
	return bodies, xid, nil
}

func (c *cli) requestErr(what, flow string, err error) error {
	var se *ofclient.SwitchError
	if !errors.As(err, &se) {
		return &exitError{ExitFailed, err}
	}
	msg := fmt.Sprintf("switch rejected %s: %s", what, ofclient.ErrorName(se.Msg))
	if flow != "" {
		msg += "\n    " + strings.TrimSuffix(what, "-mod") + ": " + flow // "flow: ...", "group: ..."
	}
	if se.Msg.Code.Type() == openflow.ETExperimenter {
		// Experimenter errors (goko's) carry a UTF-8 explanation, such as
		// the verifier's log, rather than the offending request.
		if t := errorText(se.Msg.Data); t != "" {
			msg += "\n    " + strings.ReplaceAll(t, "\n", "\n    ")
		}
	} else if d := describeErrorData(se.Msg.Data); d != "" {
		msg += "\n    error data: " + d
	}
	return &exitError{ExitFailed, errors.New(msg)}
}

// errorText returns the data of an experimenter error as text when it is
// printable UTF-8, else as hex.
func errorText(data []byte) string {
	t := strings.TrimRight(string(data), "\x00\n")
	if t == "" {
		return ""
	}
	if utf8.ValidString(t) && !strings.ContainsFunc(t, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' }) {
		return t
	}
	return fmt.Sprintf("error data (%d bytes): %s", len(data), hex.EncodeToString(data[:min(len(data), 64)]))
}

// describeErrorData explains the start of the offending request that an
// ERROR message carries: its type, xid and how much of it is there.
func describeErrorData(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	h, err := openflow.ParseHeader(data)
	if err != nil || h.Version != openflow.Version {
		return fmt.Sprintf("%d bytes: %s", len(data), hex.EncodeToString(data[:min(len(data), 16)]))
	}
	s := fmt.Sprintf("%v, xid=0x%x", h.Type, h.Xid)
	if h.Type == openflow.TypeMultipartRequest && len(data) >= 10 {
		s = fmt.Sprintf("%v %v, xid=0x%x", h.Type, openflow.MultipartType(uint16(data[8])<<8|uint16(data[9])), h.Xid)
	}
	if int(h.Length) > len(data) {
		return fmt.Sprintf("%s (first %d of %d bytes)", s, len(data), h.Length)
	}
	return fmt.Sprintf("%s (%d bytes)", s, len(data))
}

// printJSONLine prints v as one line of JSON (monitor's event stream).
func (c *cli) printJSONLine(v any) error {
	return json.NewEncoder(c.out).Encode(v)
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) show(args []string) error {
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	m, fxid, err := conn.Request(c.ctx, &openflow.FeaturesRequest{})
	if err != nil {
		return c.requestErr("features request", "", err)
	}
	feat, ok := m.(*openflow.FeaturesReply)
	if !ok {
		return fmt.Errorf("switch answered FEATURES_REQUEST with %v", m.Type())
	}
	ports, pxid, err := c.portDesc(conn)
	if err != nil {
		return err
	}
	conn.SkipXID() // ovs-ofctl numbers GET_CONFIG one further
	m, cxid, err := conn.Request(c.ctx, &openflow.GetConfigRequest{})
	if err != nil {
		return c.requestErr("get-config request", "", err)
	}
	cfg, ok := m.(*openflow.GetConfigReply)
	if !ok {
		return fmt.Errorf("switch answered GET_CONFIG_REQUEST with %v", m.Type())
	}
	if c.json {
		return c.printJSON(jsonShow(feat, ports, &cfg.SwitchConfig))
	}
	fmt.Fprint(c.out, FormatFeatures(fxid, feat)+FormatPortDesc(pxid, ports)+FormatSwitchConfig(cxid, &cfg.SwitchConfig))
	return nil
}

func (c *cli) portDesc(conn *ofclient.Conn) ([]openflow.Port, uint32, error) {
	bodies, xid, err := conn.Multipart(c.ctx, &openflow.PortDescRequest{})
	if err != nil {
		return nil, xid, c.requestErr("port description request", "", err)
	}
	var ports []openflow.Port
	for _, b := range bodies {
		ports = append(ports, b.(*openflow.PortDescReply).Ports...)
	}
	return ports, xid, nil
}

func (c *cli) dumpDesc(args []string) error {
	bodies, xid, err := c.query(args[0], "description request", 0, &openflow.DescRequest{})
	if err != nil {
		return err
	}
	d := bodies[len(bodies)-1].(*openflow.DescReply)
	if c.json {
		return c.printJSON(jsonDesc{d.MfrDesc, d.HWDesc, d.SWDesc, d.SerialNum, d.DPDesc})
	}
	fmt.Fprint(c.out, FormatDesc(xid, d))
	return nil
}

func (c *cli) dumpTables(args []string) error {
	bodies, xid, err := c.query(args[0], "table stats request", 0, &openflow.TableStatsRequest{})
	if err != nil {
		return err
	}
	var stats []openflow.TableStats
	for _, b := range bodies {
		stats = append(stats, b.(*openflow.TableStatsReply).Stats...)
	}
	if c.json {
		return c.printJSON(jsonTables(stats))
	}
	fmt.Fprint(c.out, FormatTableStats(xid, stats))
	return nil
}

func (c *cli) dumpPorts(args []string) error {
	s := &session{c: c, target: args[0]}
	defer s.close()
	port := openflow.PortAny
	if len(args) > 1 {
		if err := s.parse(func(o *flowsyntax.Options) (err error) {
			port, err = flowsyntax.ParsePort(args[1], o)
			return err
		}); err != nil {
			return err
		}
	}
	conn, err := s.get()
	if err != nil {
		return err
	}
	bodies, xid, err := conn.Multipart(c.ctx, &openflow.PortStatsRequest{PortNo: port})
	if err != nil {
		return c.requestErr("port stats request", "", err)
	}
	var stats []openflow.PortStats
	for _, b := range bodies {
		stats = append(stats, b.(*openflow.PortStatsReply).Stats...)
	}
	if c.json {
		return c.printJSON(jsonPortStats(stats))
	}
	fmt.Fprint(c.out, FormatPortStats(xid, stats))
	return nil
}

func (c *cli) dumpPortsDesc(args []string) error {
	s := &session{c: c, target: args[0]}
	defer s.close()
	conn, err := s.get()
	if err != nil {
		return err
	}
	ports, xid, err := c.portDesc(conn)
	if err != nil {
		return err
	}
	if len(args) > 1 {
		names := map[string]uint32{}
		for _, p := range ports {
			names[p.Name] = p.PortNo
		}
		want, err := flowsyntax.ParsePort(args[1], &flowsyntax.Options{PortNames: names})
		if err != nil {
			return usageErr("%v", err)
		}
		var sel []openflow.Port
		for _, p := range ports {
			if p.PortNo == want {
				sel = append(sel, p)
			}
		}
		ports = sel
	}
	if c.json {
		return c.printJSON(jsonPorts(ports))
	}
	fmt.Fprint(c.out, FormatPortDesc(xid, ports))
	return nil
}

func (c *cli) statsRequest(s *session, args []string) (*openflow.FlowStatsRequest, error) {
	filter := ""
	if len(args) > 1 {
		filter = args[1]
	}
	var req *openflow.FlowStatsRequest
	err := s.parse(func(o *flowsyntax.Options) (err error) {
		req, err = flowsyntax.ParseFlowStatsRequest(filter, o)
		return err
	})
	return req, err
}

func (c *cli) dumpFlows(args []string) error {
	s := &session{c: c, target: args[0]}
	defer s.close()
	req, err := c.statsRequest(s, args)
	if err != nil {
		return err
	}
	conn, err := s.get()
	if err != nil {
		return err
	}
	bodies, xid, err := conn.Multipart(c.ctx, req)
	if err != nil {
		return c.requestErr("flow stats request", "", err)
	}
	if !c.json && !c.noStats && len(c.sortKeys) == 0 && !isTerminal(c.out) {
		// As ovs-ofctl prints it: each reply message under its header.
		var b strings.Builder
		for i, body := range bodies {
			b.WriteString(replyHeader("OFPST_FLOW reply", xid))
			if i < len(bodies)-1 {
				b.WriteString(" flags=[more]")
			}
			b.WriteByte('\n')
			b.WriteString(FormatFlowStatsLines(body.(*openflow.FlowStatsReply).Stats, true))
		}
		_, err = io.WriteString(c.out, b.String())
		return err
	}
	var stats []openflow.FlowStats
	for _, b := range bodies {
		stats = append(stats, b.(*openflow.FlowStatsReply).Stats...)
	}
	if len(c.sortKeys) > 0 {
		sortFlows(stats, c.sortKeys)
	}
	if c.json {
		return c.printJSON(jsonFlows(stats, !c.noStats))
	}
	_, err = io.WriteString(c.out, FormatFlowStatsLines(stats, !c.noStats))
	return err
}

// isTerminal reports whether w is a terminal. Like ovs-ofctl, dump-flows
// prints the reply headers only when its output is not one (when it goes
// to a script or a file).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (c *cli) dumpAggregate(args []string) error {
	s := &session{c: c, target: args[0]}
	defer s.close()
	req, err := c.statsRequest(s, args)
	if err != nil {
		return err
	}
	conn, err := s.get()
	if err != nil {
		return err
	}
	if len(args) > 1 && s.names == nil {
		// ovs-ofctl looks up port names and table features first when
		// given a flow; number the request as it does, so that the
		// printed "(xid=0x6)" agrees.
		for range 4 {
			conn.SkipXID()
		}
	}
	bodies, xid, err := conn.Multipart(c.ctx, (*openflow.AggregateStatsRequest)(req))
	if err != nil {
		return c.requestErr("aggregate stats request", "", err)
	}
	a := bodies[len(bodies)-1].(*openflow.AggregateStatsReply)
	if c.json {
		return c.printJSON(jsonAggregate{a.PacketCount, a.ByteCount, a.FlowCount})
	}
	fmt.Fprint(c.out, FormatAggregate(xid, a))
	return nil
}

// flowReq is one flow-mod (or group-mod, meter-mod, ...) to send, with
// where it came from.
type flowReq struct {
	fm    *openflow.FlowMod
	msg   openflow.Message // when fm is nil
	kind  string           // "flow-mod" when empty
	text  string           // the flow (group, meter) string as given
	where string           // "FILE:LINE: " for add-flows, else ""
}

func (r *flowReq) message() openflow.Message {
	if r.fm != nil {
		return r.fm
	}
	return r.msg
}

func (r *flowReq) kindName() string {
	if r.kind == "" {
		return "flow-mod"
	}
	return r.kind
}

// inputLine is one non-empty line of an input file, comments removed.
type inputLine struct {
	n     int
	text  string
	where string // "FILE:LINE: "
}

// readLines reads FILE ("-": stdin) as add-flows does: "#" starts a
// comment, blank lines are skipped.
func (c *cli) readLines(name string) ([]inputLine, error) {
	var r io.Reader
	if name == "-" {
		r, name = c.stdin, "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		defer f.Close()
		r = f
	}
	var lines []inputLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		lines = append(lines, inputLine{n, text, fmt.Sprintf("%s:%d: ", name, n)})
	}
	if err := sc.Err(); err != nil {
		return nil, usageErr("%s: %v", name, err)
	}
	return lines, nil
}

// isUsage reports whether err is a usage error (a bad flow string), as
// opposed to a failure to reach the switch.
func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == ExitUsage
}

// reportBad prints every message of bad but the last and returns the last
// as a usage error; nil when bad is empty.
func reportBad(c *cli, bad []string) error {
	if len(bad) == 0 {
		return nil
	}
	for _, b := range bad[:len(bad)-1] {
		fmt.Fprintf(c.errw, "ofctl: %s\n", b)
	}
	return usageErr("%s", bad[len(bad)-1])
}

// flowMod parses one flow string for cmd and sends it.
func (c *cli) flowMod(args []string, cmd openflow.FlowModCommand) error {
	s := &session{c: c, target: args[0]}
	defer s.close()
	text := ""
	if len(args) > 1 {
		text = args[1]
	}
	var fm *openflow.FlowMod
	if err := s.parse(func(o *flowsyntax.Options) (err error) {
		fm, err = flowsyntax.ParseFlowMod(text, cmd, o)
		return err
	}); err != nil {
		return err
	}
	return c.sendFlowMods(s, []flowReq{{fm: fm, text: text}})
}

func (c *cli) addFlow(args []string) error { return c.flowMod(args, openflow.FlowAdd) }

func (c *cli) modFlows(args []string) error {
	if c.strict {
		return c.flowMod(args, openflow.FlowModifyStrict)
	}
	return c.flowMod(args, openflow.FlowModify)
}

func (c *cli) delFlows(args []string) error {
	if c.strict {
		return c.flowMod(args, openflow.FlowDeleteStrict)
	}
	return c.flowMod(args, openflow.FlowDelete)
}

// lineCommands are the commands a line of an add-flows file may start with.
var lineCommands = map[string]openflow.FlowModCommand{
	"add": openflow.FlowAdd, "modify": openflow.FlowModify, "modify_strict": openflow.FlowModifyStrict,
	"delete": openflow.FlowDelete, "delete_strict": openflow.FlowDeleteStrict,
}

func (c *cli) addFlows(args []string) error {
	reqs, err := c.readFlowFile(args[0], args[1], true)
	if err != nil || len(reqs) == 0 {
		return err
	}
	s := &session{c: c, target: args[0]}
	defer s.close()
	return c.sendFlowMods(s, reqs)
}

// readFlowFile parses the flows of an add-flows file. With commands, a
// line may start with add, modify, modify_strict, delete or
// delete_strict; otherwise every line is an add. Port names are looked up
// on target when a flow uses one (target "" for none).
func (c *cli) readFlowFile(target, name string, commands bool) ([]flowReq, error) {
	lines, err := c.readLines(name)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, target: target}
	defer s.close()
	reqs := make([]flowReq, len(lines))
	var bad []string
	for i, l := range lines {
		text, cmd := l.text, openflow.FlowAdd
		if commands {
			word, rest := text, ""
			if i := strings.IndexAny(text, " \t"); i >= 0 {
				word, rest = text[:i], text[i:]
			}
			if lc, ok := lineCommands[word]; ok {
				cmd, text = lc, strings.TrimSpace(rest)
			}
		}
		err := s.parse(func(o *flowsyntax.Options) (err error) {
			if target == "" && o != nil {
				return errors.New("port names need a switch")
			}
			reqs[i].fm, err = flowsyntax.ParseFlowMod(text, cmd, o)
			return err
		})
		if err != nil {
			if !isUsage(err) {
				return nil, err // the switch could not be asked for port names
			}
			bad = append(bad, l.where+err.Error())
		}
		reqs[i].text, reqs[i].where = text, l.where
	}
	if err := reportBad(c, bad); err != nil {
		return nil, err
	}
	return reqs, nil
}

// sendFlowMods sends all flow mods, then one barrier, and reports every
// error the switch returned, naming the flow that caused it.
func (c *cli) sendFlowMods(s *session, reqs []flowReq) error {
	conn, err := s.get()
	if err != nil {
		return err
	}
	byXid := make(map[uint32]int, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		xid, err := conn.Send(r.message())
		if err != nil {
			return fmt.Errorf("%ssending %s: %w", r.where, r.kindName(), err)
		}
		byXid[xid] = i
	}
	errs, err := conn.Barrier(c.ctx)
	var msgs []string
	for _, se := range errs {
		i, ok := byXid[se.Xid]
		if !ok {
			msgs = append(msgs, c.requestErr(fmt.Sprintf("a request (xid 0x%x)", se.Xid), "", se).Error())
			continue
		}
		msg := reqs[i].where + c.requestErr(reqs[i].kindName(), reqs[i].text, se).Error()
		if h := hintFor(reqs[i].message(), se.Msg.Code); h != "" {
			msg += "\n    " + h
		}
		msgs = append(msgs, msg)
	}
	if err != nil {
		msgs = append(msgs, err.Error())
	}
	if len(msgs) == 0 {
		return nil
	}
	for _, m := range msgs[:len(msgs)-1] {
		fmt.Fprintf(c.errw, "ofctl: %s\n", m)
	}
	last := msgs[len(msgs)-1]
	if len(reqs) > 1 && len(errs) > 0 {
		last += fmt.Sprintf("\nofctl: %d of %d %ss failed", len(errs), len(reqs), reqs[0].kindName())
	}
	return &exitError{ExitFailed, errors.New(last)}
}

func (c *cli) probe(args []string) error {
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Echo(c.ctx, nil); err != nil {
		return c.requestErr("echo request", "", err)
	}
	return nil
}
