package ctl

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goko-net/goko/ctl/internal/fakeswitch"
	"github.com/goko-net/goko/openflow"
)

// startSwitch serves a fake switch on the management socket of bridge
// "br0" in a temporary run directory, which it returns.
func startSwitch(t *testing.T, sw *fakeswitch.Switch) string {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "br0.mgmt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go sw.Listen(ln)
	return dir
}

// ofctl runs Main and returns stdout, stderr and the exit status.
func ofctl(t *testing.T, runDir string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--run-dir", runDir, "--timeout", "10s"}, args...)
	code := Main(all, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func sampleFlows(sw *fakeswitch.Switch) {
	sw.AddFlow(openflow.FlowStats{TableID: 0, DurationSec: 3, DurationNsec: 5e6, Priority: 10, PacketCount: 5, ByteCount: 490,
		Match:        openflow.NewMatch(openflow.OXMInPortVal(1)),
		Instructions: []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{openflow.ActionOutput{Port: 2}}}}})
	sw.AddFlow(openflow.FlowStats{TableID: 1, Priority: openflow.DefaultPriority, Cookie: 5, IdleTimeout: 60,
		Flags: openflow.FlowFlagSendFlowRem,
		Match: openflow.NewMatch(openflow.OXMEthTypeVal(0x0800), openflow.OXMIPProtoVal(6), openflow.OXMPortVal(openflow.OXMTCPDst, 80))})
}

func TestShow(t *testing.T) {
	dir := startSwitch(t, fakeswitch.New())
	out, errs, code := ofctl(t, dir, "", "show", "br0")
	want := `OFPT_FEATURES_REPLY (OF1.3) (xid=0x2): dpid:0000aabbccddeeff
n_tables:254, n_buffers:0
capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS
OFPST_PORT_DESC reply (OF1.3) (xid=0x3):
 1(p1): addr:02:00:00:00:00:01
     config:     0
     state:      LIVE
     current:    10GB-FD COPPER
     speed: 10000 Mbps now, 0 Mbps max
 2(p2): addr:02:00:00:00:00:02
     config:     NO_PACKET_IN
     state:      LINK_DOWN
     speed: 0 Mbps now, 0 Mbps max
 LOCAL(br0): addr:02:00:00:00:00:fe
     config:     PORT_DOWN
     state:      LINK_DOWN
     speed: 0 Mbps now, 0 Mbps max
OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x5): frags=normal miss_send_len=128
`
	if code != 0 || out != want {
		t.Errorf("show: code %d, stderr %q\n got:\n%s\nwant:\n%s", code, errs, out, want)
	}
}

func TestDumpFlows(t *testing.T) {
	sw := fakeswitch.New()
	sw.MaxReplyLen = 150 // one flow per reply: exercises the MORE flag
	sampleFlows(sw)
	dir := startSwitch(t, sw)
	out, errs, code := ofctl(t, dir, "", "dump-flows", "br0")
	want := "OFPST_FLOW reply (OF1.3) (xid=0x2): flags=[more]\n" +
		" cookie=0x0, duration=3.005s, table=0, n_packets=5, n_bytes=490, priority=10,in_port=1 actions=output:2\n" +
		"OFPST_FLOW reply (OF1.3) (xid=0x2):\n" +
		" cookie=0x5, duration=0s, table=1, n_packets=0, n_bytes=0, idle_timeout=60, send_flow_rem tcp,tp_dst=80 actions=drop\n"
	if code != 0 || out != want {
		t.Errorf("dump-flows: code %d, stderr %q\n got:\n%s\nwant:\n%s", code, errs, out, want)
	}
	out, _, _ = ofctl(t, dir, "", "--no-stats", "dump-flows", "br0", "table=1")
	if want := " cookie=0x5, table=1, idle_timeout=60, send_flow_rem tcp,tp_dst=80 actions=drop\n"; out != want {
		t.Errorf("dump-flows --no-stats table=1:\n got %q\nwant %q", out, want)
	}
	reqs := flowStatsRequests(sw)
	if len(reqs) != 2 || reqs[0].TableID != openflow.TableAll || reqs[1].TableID != 1 {
		t.Errorf("flow stats requests: %+v", reqs)
	}
	out, _, _ = ofctl(t, dir, "", "dump-aggregate", "br0")
	if want := "OFPST_AGGREGATE reply (OF1.3) (xid=0x2): packet_count=5 byte_count=490 flow_count=2\n"; out != want {
		t.Errorf("dump-aggregate:\n got %q\nwant %q", out, want)
	}
	// The output of dump-flows --no-stats is valid add-flow input.
	out, _, _ = ofctl(t, dir, "", "--no-stats", "dump-flows", "br0")
	if _, errs, code := ofctl(t, dir, out, "add-flows", "br0", "-"); code != 0 {
		t.Errorf("feeding dump-flows back: code %d: %s", code, errs)
	}
}

func flowStatsRequests(sw *fakeswitch.Switch) []*openflow.FlowStatsRequest {
	var out []*openflow.FlowStatsRequest
	for _, r := range sw.Received() {
		if mp, ok := r.Msg.(*openflow.MultipartRequest); ok {
			if fr, ok := mp.Body.(*openflow.FlowStatsRequest); ok {
				out = append(out, fr)
			}
		}
	}
	return out
}

// kinds lists the message types the switch received after the HELLO.
func kinds(sw *fakeswitch.Switch) []string {
	var out []string
	for _, r := range sw.Received() {
		if r.Msg.Type() != openflow.TypeHello {
			out = append(out, strings.TrimPrefix(r.Msg.Type().String(), "OFPT_"))
		}
	}
	return out
}

func TestAddFlowSendsBarrier(t *testing.T) {
	sw := fakeswitch.New()
	dir := startSwitch(t, sw)
	_, errs, code := ofctl(t, dir, "", "add-flow", "br0", "priority=10,in_port=1,actions=output:2")
	if code != 0 {
		t.Fatalf("add-flow: code %d: %s", code, errs)
	}
	if got := strings.Join(kinds(sw), " "); got != "FLOW_MOD BARRIER_REQUEST" {
		t.Errorf("messages sent: %s", got)
	}
	flows := sw.Flows()
	if len(flows) != 1 || flows[0].Priority != 10 {
		t.Errorf("flows after add-flow: %+v", flows)
	}
}

func TestAddFlowRejected(t *testing.T) {
	sw := fakeswitch.New()
	sw.Reject = func(fm *openflow.FlowMod) (openflow.ErrorCode, bool) { return openflow.BMCBadPrereq, fm.Priority == 13 }
	dir := startSwitch(t, sw)
	_, errs, code := ofctl(t, dir, "", "add-flow", "br0", "priority=13,in_port=1,actions=output:2")
	want := "ofctl: switch rejected flow-mod: OFPBMC_BAD_PREREQ\n" +
		"    flow: priority=13,in_port=1,actions=output:2\n" +
		"    error data: OFPT_FLOW_MOD, xid=0x2 (first 64 of 88 bytes)\n"
	if code != ExitFailed || errs != want {
		t.Errorf("code %d, stderr:\n%s\nwant:\n%s", code, errs, want)
	}
}

func TestAddFlows(t *testing.T) {
	sw := fakeswitch.New()
	sw.Reject = func(fm *openflow.FlowMod) (openflow.ErrorCode, bool) {
		return openflow.BACBadOutPort, fm.Priority == 13
	}
	dir := startSwitch(t, sw)
	file := filepath.Join(t.TempDir(), "flows.txt")
	os.WriteFile(file, []byte(`# a comment
priority=1,in_port=1,actions=output:2

priority=13,in_port=2,actions=drop   # rejected by the switch
  priority=2 , in_port=3 actions=drop
priority=13,in_port=4,actions=drop
delete	in_port=3
`), 0o644)
	_, errs, code := ofctl(t, dir, "", "add-flows", "br0", file)
	if code != ExitFailed {
		t.Errorf("exit status %d, want 1", code)
	}
	for _, want := range []string{
		file + ":4: switch rejected flow-mod: OFPBAC_BAD_OUT_PORT\n    flow: priority=13,in_port=2,actions=drop\n",
		file + ":6: switch rejected flow-mod: OFPBAC_BAD_OUT_PORT\n    flow: priority=13,in_port=4,actions=drop\n",
		"ofctl: 2 of 5 flow-mods failed\n",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// All flow mods go out before a single barrier.
	if got := strings.Join(kinds(sw), " "); got != "FLOW_MOD FLOW_MOD FLOW_MOD FLOW_MOD FLOW_MOD BARRIER_REQUEST" {
		t.Errorf("messages sent: %s", got)
	}
	if got := len(sw.Flows()); got != 1 {
		t.Errorf("%d flows left, want 1 (in_port=1)", got)
	}

	// A bad line stops everything before connecting.
	sw2 := fakeswitch.New()
	dir2 := startSwitch(t, sw2)
	_, errs, code = ofctl(t, dir2, "in_port=1,actions=drop\ntp_dst=80,actions=drop\nfoo=1 actions=drop\n", "add-flows", "br0", "-")
	if code != ExitUsage || !strings.Contains(errs, "stdin:2: bad flow") || !strings.Contains(errs, "stdin:3: bad flow") {
		t.Errorf("code %d, stderr:\n%s", code, errs)
	}
	if len(sw2.Received()) != 0 {
		t.Errorf("ofctl talked to the switch despite bad flows")
	}
}

func TestBadFlowDoesNotConnect(t *testing.T) {
	_, errs, code := ofctl(t, t.TempDir(), "", "add-flow", "br0", "in_port=1,nw_dst=10.0.0/33,actions=drop")
	want := `ofctl: bad flow "in_port=1,nw_dst=10.0.0/33,actions=drop": nw_dst: prefix length 33 out of range` + "\n"
	if code != ExitUsage || errs != want {
		t.Errorf("code %d, stderr %q, want %q", code, errs, want)
	}
}

func TestModAndDelFlows(t *testing.T) {
	sw := fakeswitch.New()
	sampleFlows(sw)
	dir := startSwitch(t, sw)
	if _, errs, code := ofctl(t, dir, "", "mod-flows", "br0", "in_port=1,actions=output:3"); code != 0 {
		t.Fatalf("mod-flows: %s", errs)
	}
	if _, errs, code := ofctl(t, dir, "", "--strict", "del-flows", "br0", "priority=10,in_port=1"); code != 0 {
		t.Fatalf("del-flows --strict: %s", errs)
	}
	var fms []*openflow.FlowMod
	for _, r := range sw.Received() {
		if fm, ok := r.Msg.(*openflow.FlowMod); ok {
			fms = append(fms, fm)
		}
	}
	if len(fms) != 2 || fms[0].Command != openflow.FlowModify || fms[1].Command != openflow.FlowDeleteStrict ||
		fms[1].Priority != 10 || fms[1].TableID != openflow.TableAll {
		t.Errorf("flow mods: %+v", fms)
	}
	if _, _, code := ofctl(t, dir, "", "del-flows", "br0"); code != 0 || len(sw.Flows()) != 0 {
		t.Errorf("del-flows left %d flows", len(sw.Flows()))
	}
}

func TestPortNames(t *testing.T) {
	sw := fakeswitch.New()
	dir := startSwitch(t, sw)
	if _, errs, code := ofctl(t, dir, "", "add-flow", "br0", "in_port=p1,actions=output:p2,br0"); code != 0 {
		t.Fatalf("add-flow with port names: %s", errs)
	}
	f := sw.Flows()
	if len(f) != 1 || f[0].Match.Field(openflow.OXMInPort).Uint32() != 1 {
		t.Fatalf("flows: %+v", f)
	}
	acts := f[0].Instructions[0].(openflow.InstApplyActions).Actions
	if acts[0] != (openflow.ActionOutput{Port: 2}) || acts[1] != (openflow.ActionOutput{Port: openflow.PortLocal}) {
		t.Errorf("actions: %+v", acts)
	}
	_, errs, code := ofctl(t, dir, "", "add-flow", "br0", "in_port=p9,actions=drop")
	if code != ExitUsage || !strings.Contains(errs, `unknown port "p9"`) {
		t.Errorf("unknown port: code %d, %s", code, errs)
	}
	out, _, code := ofctl(t, dir, "", "dump-ports", "br0", "p1")
	if code != 0 || !strings.HasPrefix(out, "OFPST_PORT reply (OF1.3) (xid=0x3): 1 ports\n  port  1:") {
		t.Errorf("dump-ports p1: %s", out)
	}
}

func TestDumpCommands(t *testing.T) {
	sw := fakeswitch.New()
	sampleFlows(sw)
	dir := startSwitch(t, sw)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"dump-desc", "br0"}, "OFPST_DESC reply (OF1.3) (xid=0x2):\nManufacturer: goko\nHardware: fake switch\nSoftware: 0.0\nSerial Num: None\nDP Description: test bridge\n"},
		{[]string{"dump-tables", "br0"}, "OFPST_TABLE reply (OF1.3) (xid=0x2):\n  table 0:\n    active=1, lookup=100, matched=40\n\n  table 1: ditto\n\n  table 2:\n    active=0, lookup=100, matched=40\n\n  tables 3...5: ditto\n"},
		{[]string{"dump-ports", "br0", "2"}, "OFPST_PORT reply (OF1.3) (xid=0x2): 1 ports\n  port  2: rx pkts=?, bytes=?, drop=0, errs=3, frame=0, over=0, crc=0\n           tx pkts=0, bytes=0, drop=0, errs=0, coll=?\n           duration=0s\n"},
		{[]string{"dump-ports-desc", "br0", "LOCAL"}, "OFPST_PORT_DESC reply (OF1.3) (xid=0x2):\n LOCAL(br0): addr:02:00:00:00:00:fe\n     config:     PORT_DOWN\n     state:      LINK_DOWN\n     speed: 0 Mbps now, 0 Mbps max\n"},
		{[]string{"probe", "br0"}, ""},
	}
	for _, tc := range tests {
		out, errs, code := ofctl(t, dir, "", tc.args...)
		if code != 0 || out != tc.want {
			t.Errorf("%v: code %d, stderr %q\n got %q\nwant %q", tc.args, code, errs, out, tc.want)
		}
	}
}

func TestJSON(t *testing.T) {
	sw := fakeswitch.New()
	sampleFlows(sw)
	dir := startSwitch(t, sw)
	out, errs, code := ofctl(t, dir, "", "--json", "dump-flows", "br0")
	var flows []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &flows) != nil || len(flows) != 2 {
		t.Fatalf("dump-flows --json: code %d %s\n%s", code, errs, out)
	}
	if flows[1]["match"] != "tcp,tp_dst=80" || flows[0]["actions"] != "output:2" || flows[1]["cookie"] != "0x5" {
		t.Errorf("flows: %v", flows)
	}
	for _, cmd := range []string{"show", "dump-ports", "dump-ports-desc", "dump-desc", "dump-tables", "dump-aggregate"} {
		out, errs, code := ofctl(t, dir, "", "--json", cmd, "br0")
		if code != 0 || !json.Valid([]byte(out)) {
			t.Errorf("%s --json: code %d %s\n%s", cmd, code, errs, out)
		}
	}
}

func TestConnectionErrors(t *testing.T) {
	_, errs, code := ofctl(t, t.TempDir(), "", "show", "br0")
	if code != ExitFailed || !strings.Contains(errs, "br0: cannot connect to") {
		t.Errorf("no switch: code %d, %s", code, errs)
	}
	sw := fakeswitch.New()
	sw.HelloVersion = 0x01
	dir := startSwitch(t, sw)
	_, errs, code = ofctl(t, dir, "", "show", "br0")
	if code != ExitFailed || !strings.Contains(errs, "does not support OpenFlow 1.3") {
		t.Errorf("OpenFlow 1.0 switch: code %d, %s", code, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"frob", "br0"}, {"add-flow", "br0"}, {"show"}, {"--frob", "show", "br0"},
		{"-O", "OpenFlow10", "show", "br0"}, {"help", "frob"}, {"-t", "x", "show", "br0"}} {
		if _, _, code := ofctl(t, t.TempDir(), "", args...); code != ExitUsage {
			t.Errorf("%v: exit status %d, want 2", args, code)
		}
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"help", "dump-flows"}} {
		out, _, code := ofctl(t, t.TempDir(), "", args...)
		if code != 0 || !strings.Contains(out, "usage: ofctl") {
			t.Errorf("%v: exit status %d, output %q", args, code, out)
		}
	}
}
