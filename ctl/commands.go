package ctl

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/goko-net/goko/ctl/flowsyntax"
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
	timeout   time.Duration
	ctx       context.Context
}

// command is one ofctl command.
type command struct {
	name     string
	args     string // synopsis of the arguments after the command
	min, max int    // number of arguments, TARGET included
	summary  string
	help     string // longer help for "ofctl help COMMAND"
	run      func(c *cli, args []string) error
}

var commands []*command

func init() {
	commands = []*command{
		{"show", "TARGET", 1, 1, "show OpenFlow information",
			"Prints the switch's features (datapath id, tables, capabilities), its ports\nand its configuration, as ovs-ofctl show does.", (*cli).show},
		{"dump-desc", "TARGET", 1, 1, "print switch description", "Prints the switch's manufacturer, hardware, software, serial number and\ndatapath description.", (*cli).dumpDesc},
		{"dump-tables", "TARGET", 1, 1, "print table stats", "Prints the flow count and lookup/match counters of every table; a table\nwhose counters equal the previous table's is printed as \"ditto\".", (*cli).dumpTables},
		{"dump-ports", "TARGET [PORT]", 1, 2, "print port statistics", "Prints the packet, byte, drop and error counters of every port, or of PORT.", (*cli).dumpPorts},
		{"dump-ports-desc", "TARGET [PORT]", 1, 2, "print port descriptions", "Prints the description (name, address, config, state, speed) of every port,\nor of PORT.", (*cli).dumpPortsDesc},
		{"dump-flows", "TARGET [FLOW]", 1, 2, "print all flow entries", "Prints the flows that FLOW selects (all flows without FLOW). FLOW may give\nmatch fields, table=N, cookie=VALUE/MASK, out_port and out_group.\n--no-stats leaves out the duration and counters.", (*cli).dumpFlows},
		{"dump-aggregate", "TARGET [FLOW]", 1, 2, "print aggregate flow statistics", "Prints the packet, byte and flow counts summed over the flows FLOW selects.", (*cli).dumpAggregate},
		{"add-flow", "TARGET FLOW", 2, 2, "add flow described by FLOW", "Adds one flow, for example:\n  ofctl add-flow br0 \"priority=10,tcp,tp_dst=80 actions=output:2\"", (*cli).addFlow},
		{"add-flows", "TARGET FILE", 2, 2, "add flows from FILE (\"-\": stdin)",
			"Adds the flows in FILE, one per line; \"#\" starts a comment. A line may\nstart with add, modify, modify_strict, delete or delete_strict. All flows\nare sent at once, followed by one barrier.", (*cli).addFlows},
		{"mod-flows", "TARGET FLOW", 2, 2, "modify actions of matching FLOWs", "Replaces the actions of the flows FLOW matches (exactly, with its priority,\nwith --strict).", (*cli).modFlows},
		{"del-flows", "TARGET [FLOW]", 1, 2, "delete matching FLOWs", "Deletes the flows FLOW matches (all flows without FLOW; exactly FLOW with\nits priority, with --strict).", (*cli).delFlows},
		{"probe", "TARGET", 1, 1, "probe whether TARGET is up", "Sends an echo request and waits for the reply.", (*cli).probe},
		{"help", "[COMMAND]", 0, 1, "show help for ofctl or COMMAND", "", nil},
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
	for _, c := range commands {
		fmt.Fprintf(w, "  %-34s %s\n", c.name+" "+c.args, c.summary)
	}
	fmt.Fprintf(w, `
TARGET is a bridge name (its management socket RUN_DIR/BRIDGE.mgmt),
tcp:HOST[:PORT] (port 6653 by default) or unix:PATH.

FLOW uses ovs-ofctl's syntax, e.g. "priority=10,ip,nw_dst=10.0.0.0/24 actions=output:2".

Options:
%s
Exit status: 0 on success, 1 if the switch reported an error or could not
be reached, 2 for a bad command line or flow.
`, fs.FlagUsages())
}

// Main runs ofctl with the given arguments (without the program name)
// and returns its exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, out: stdout, errw: stderr}
	fs := pflag.NewFlagSet("ofctl", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runDir := os.Getenv("GOKO_RUN_DIR")
	if runDir == "" {
		runDir = DefaultRunDir
	}
	fs.StringVar(&c.runDir, "run-dir", runDir, "directory of the bridges' management sockets (env GOKO_RUN_DIR)")
	fs.BoolVar(&c.strict, "strict", false, "mod-flows, del-flows: match the flow exactly, priority included")
	fs.BoolVar(&c.noStats, "no-stats", false, "dump-flows: leave out duration and counters")
	fs.BoolVar(&c.json, "json", false, "print replies as JSON (show and the dump-* commands)")
	fs.VarP((*secondsValue)(&c.timeout), "timeout", "t", "give up after SECS seconds (or a duration such as 500ms; default: wait forever)")
	protocols := fs.StringP("protocols", "O", "OpenFlow13", "OpenFlow versions to allow; only OpenFlow13 is supported")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "ofctl: %v (use --help for help)\n", err)
		return ExitUsage
	}
	if *help {
		usage(stdout, fs)
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
		fmt.Fprintf(stdout, "usage: ofctl [OPTIONS] %s %s\n  %s\n\n%s\n", hc.name, hc.args, hc.summary, hc.help)
		return ExitOK
	}
	ctx := context.Background()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	c.ctx = ctx
	if err := cmd.run(c, cargs); err != nil {
		fmt.Fprintf(stderr, "ofctl: %v\n", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return ExitFailed
	}
	return ExitOK
}

// dial connects to the target.
func (c *cli) dial(target string) (*Conn, error) {
	t, err := ParseTarget(target, c.runDir)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	conn, err := Dial(c.ctx, t.Network, t.Addr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			// "dial unix /run/goko/br0.mgmt: connect: no such file or
			// directory" says the path twice; keep the cause.
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				err = e
			}
			if t.Bridge != "" {
				return nil, fmt.Errorf("%s: cannot connect to %s: %v (is switchd running? --run-dir or GOKO_RUN_DIR set the socket directory)", t.Bridge, t.Addr, err)
			}
		}
		return nil, fmt.Errorf("connecting to %s: %v", t, err)
	}
	if dl, ok := c.ctx.Deadline(); ok {
		conn.SetWriteDeadline(dl)
	}
	return conn, nil
}

// session is a lazily opened connection: flow strings are parsed before
// connecting, and port names are looked up only when a flow uses one.
type session struct {
	c      *cli
	target string
	conn   *Conn
	names  map[string]uint32
}

func (s *session) get() (*Conn, error) {
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
func (c *cli) requestErr(what, flow string, err error) error {
	var se *SwitchError
	if !errors.As(err, &se) {
		return &exitError{ExitFailed, err}
	}
	msg := fmt.Sprintf("switch rejected %s: %s", what, ErrorName(se.Msg))
	if flow != "" {
		msg += "\n    flow: " + flow
	}
	if d := describeErrorData(se.Msg.Data); d != "" {
		msg += "\n    error data: " + d
	}
	return &exitError{ExitFailed, errors.New(msg)}
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

func (c *cli) portDesc(conn *Conn) ([]openflow.Port, uint32, error) {
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
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	bodies, xid, err := conn.Multipart(c.ctx, &openflow.DescRequest{})
	if err != nil {
		return c.requestErr("description request", "", err)
	}
	d := bodies[len(bodies)-1].(*openflow.DescReply)
	if c.json {
		return c.printJSON(jsonDesc{d.MfrDesc, d.HWDesc, d.SWDesc, d.SerialNum, d.DPDesc})
	}
	fmt.Fprint(c.out, FormatDesc(xid, d))
	return nil
}

func (c *cli) dumpTables(args []string) error {
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	bodies, xid, err := conn.Multipart(c.ctx, &openflow.TableStatsRequest{})
	if err != nil {
		return c.requestErr("table stats request", "", err)
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
	bodies, _, err := conn.Multipart(c.ctx, req)
	if err != nil {
		return c.requestErr("flow stats request", "", err)
	}
	var stats []openflow.FlowStats
	for _, b := range bodies {
		stats = append(stats, b.(*openflow.FlowStatsReply).Stats...)
	}
	if c.json {
		return c.printJSON(jsonFlows(stats, !c.noStats))
	}
	_, err = io.WriteString(c.out, FormatFlowStatsLines(stats, !c.noStats))
	return err
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

// flowReq is one flow-mod to send, with where it came from.
type flowReq struct {
	fm    *openflow.FlowMod
	text  string // the flow string as given
	where string // "FILE:LINE: " for add-flows, else ""
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
	name := args[1]
	var r io.Reader
	if name == "-" {
		r, name = c.stdin, "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return usageErr("%v", err)
		}
		defer f.Close()
		r = f
	}
	type line struct {
		n    int
		text string
		cmd  openflow.FlowModCommand
	}
	var lines []line
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
		cmd := openflow.FlowAdd
		word, rest := text, ""
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			word, rest = text[:i], text[i:]
		}
		if lc, ok := lineCommands[word]; ok {
			cmd, text = lc, strings.TrimSpace(rest)
		}
		lines = append(lines, line{n, text, cmd})
	}
	if err := sc.Err(); err != nil {
		return usageErr("%s: %v", name, err)
	}
	s := &session{c: c, target: args[0]}
	defer s.close()
	reqs := make([]flowReq, len(lines))
	var bad []string
	for i, l := range lines {
		where := fmt.Sprintf("%s:%d: ", name, l.n)
		err := s.parse(func(o *flowsyntax.Options) (err error) {
			reqs[i].fm, err = flowsyntax.ParseFlowMod(l.text, l.cmd, o)
			return err
		})
		if err != nil {
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != ExitUsage {
				return err // the switch could not be asked for port names
			}
			bad = append(bad, where+err.Error())
		}
		reqs[i].text, reqs[i].where = l.text, where
	}
	if len(bad) > 0 {
		for _, b := range bad[:len(bad)-1] {
			fmt.Fprintf(c.errw, "ofctl: %s\n", b)
		}
		return usageErr("%s", bad[len(bad)-1])
	}
	if len(reqs) == 0 {
		return nil
	}
	return c.sendFlowMods(s, reqs)
}

// sendFlowMods sends all flow mods, then one barrier, and reports every
// error the switch returned, naming the flow that caused it.
func (c *cli) sendFlowMods(s *session, reqs []flowReq) error {
	conn, err := s.get()
	if err != nil {
		return err
	}
	byXid := make(map[uint32]int, len(reqs))
	for i, r := range reqs {
		xid, err := conn.Send(r.fm)
		if err != nil {
			return fmt.Errorf("%ssending flow-mod: %w", r.where, err)
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
		msgs = append(msgs, reqs[i].where+c.requestErr("flow-mod", reqs[i].text, se).Error())
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
		last += fmt.Sprintf("\nofctl: %d of %d flow-mods failed", len(errs), len(reqs))
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
