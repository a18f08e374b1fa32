package ctl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/ctl/internal/fakeswitch"
	"github.com/goko-net/goko/openflow"
)

func writeObj(t *testing.T, size int) string {
	t.Helper()
	obj := make([]byte, size)
	copy(obj, "\x7fELF")
	for i := 4; i < size; i++ {
		obj[i] = byte(i * 7)
	}
	p := filepath.Join(t.TempDir(), "f.o")
	if err := os.WriteFile(p, obj, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFilterProgCommands(t *testing.T) {
	sw := fakeswitch.New()
	sw.MapChunk = 2 // map dumps come in several replies (MORE)
	var got []byte
	sw.Verify = func(id uint32, name string, obj []byte) ([]openflow.GokoMapInfo, *openflow.ErrorMsg) {
		if bytes.Contains(obj, []byte("BAD")) {
			return nil, openflow.GokoError(openflow.GokoErrVerifier, "0: r0 = *(u32 *)(r1 + 0)\n1: exit\nR0 !read_ok: invalid read at insn 1")
		}
		got = append([]byte(nil), obj...)
		return fakeswitch.DefaultMaps(), nil
	}
	dir := startSwitch(t, sw)
	must := func(args ...string) string {
		t.Helper()
		out, errs, code := ofctl(t, dir, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out
	}
	// A 200 KiB object goes in four chunks.
	obj := writeObj(t, 200<<10)
	out := must("load-filter-prog", "br0", "7", obj, "--prog", "count_tcp")
	want := "filter program 7 loaded: name=count_tcp insns=25600 maps=2\n" +
		"  map config: type=array key_size=4 value_size=4 max_entries=4 entries=0\n" +
		"  map counters: type=hash key_size=4 value_size=8 max_entries=1024 entries=0\n"
	if out != want {
		t.Errorf("load-filter-prog:\n got %q\nwant %q", out, want)
	}
	if data, _ := os.ReadFile(obj); !bytes.Equal(got, data) {
		t.Errorf("the switch assembled %d bytes, want the %d of the object", len(got), len(data))
	}
	n := 0
	for _, r := range sw.Received() {
		if e, ok := r.Msg.(*openflow.Experimenter); ok && e.ExpType == openflow.GokoLoadFilterProg {
			n++
			if len(r.Raw) > openflow.MaxMessageLen {
				t.Errorf("chunk of %d bytes", len(r.Raw))
			}
		}
	}
	if n != 4 {
		t.Errorf("load sent %d chunks, want 4", n)
	}

	// A verifier rejection shows the error's name and the log.
	bad := filepath.Join(t.TempDir(), "bad.o")
	os.WriteFile(bad, []byte("\x7fELF BAD"), 0o644)
	_, errs, code := ofctl(t, dir, "", "load-filter-prog", "br0", "8", bad)
	if code != 1 || !strings.Contains(errs, "GOKO_VERIFIER") || !strings.Contains(errs, "\n    R0 !read_ok: invalid read at insn 1") {
		t.Errorf("verifier error: exit %d\n%s", code, errs)
	}
	os.WriteFile(bad, []byte("not elf"), 0o644)
	if _, errs, code := ofctl(t, dir, "", "load-filter-prog", "br0", "8", bad); code != 1 || !strings.Contains(errs, "GOKO_BAD_ELF") {
		t.Errorf("bad ELF: exit %d %s", code, errs)
	}

	// Maps: every key/value syntax.
	must("update-map", "br0", "7", "counters", "1", "100")
	must("update-map", "br0", "7", "counters", "0x02000000", "u64:5")
	must("update-map", "br0", "7", "counters", "3 0 0 0", "0x0700000000000000")
	must("update-map", "br0", "7", "counters", "u32:4", "be64:1")
	must("update-map", "br0", "7", "counters", "10.0.0.1", "9")
	must("update-map", "br0", "7", "config", "u32:0", "ip:192.168.0.1")
	if _, errs, code := ofctl(t, dir, "", "update-map", "br0", "7", "counters", "1", "2", "--flags", "noexist"); code != 1 || !strings.Contains(errs, "GOKO_EXISTS") {
		t.Errorf("noexist on an existing key: exit %d %s", code, errs)
	}
	if _, errs, code := ofctl(t, dir, "", "update-map", "br0", "7", "counters", "u16:1", "2"); code != 2 || !strings.Contains(errs, "the map wants 4") {
		t.Errorf("short key: exit %d %s", code, errs)
	}
	if _, errs, code := ofctl(t, dir, "", "update-map", "br0", "7", "nosuch", "1", "2"); code != 1 || !strings.Contains(errs, `has no map "nosuch"`) {
		t.Errorf("unknown map: exit %d %s", code, errs)
	}
	out = must("dump-map", "br0", "7", "counters")
	want = "prog=7 map=counters entries=5\n key=1 value=100\n key=2 value=5\n key=3 value=7\n key=4 value=72057594037927936\n key=16777226 value=9\n"
	if out != want {
		t.Errorf("dump-map:\n got %q\nwant %q", out, want)
	}
	out = must("dump-map", "br0", "7", "config", "--hex")
	if want := "prog=7 map=config entries=1\n key=0x00000000 value=0xc0a80001\n"; out != want {
		t.Errorf("dump-map --hex:\n got %q\nwant %q", out, want)
	}
	out = must("--json", "dump-map", "br0", "7", "counters")
	if !strings.Contains(out, `"key": "0a000001"`) || !strings.Contains(out, `"value_int": 9`) {
		t.Errorf("dump-map --json:\n%s", out)
	}
	must("delete-map-entry", "br0", "7", "counters", "10.0.0.1")
	if _, errs, code := ofctl(t, dir, "", "delete-map-entry", "br0", "7", "counters", "10.0.0.1"); code != 1 || !strings.Contains(errs, "GOKO_NO_ENTRY") {
		t.Errorf("delete a missing key: exit %d %s", code, errs)
	}
	if e := sw.MapEntries(7, "counters"); len(e) != 4 {
		t.Errorf("after delete: %d entries", len(e))
	}

	sw.SetProgStats(7, 1000, 250, 3, 35500)
	out = must("dump-filter-progs", "br0")
	want = "ID  NAME       INSNS  MAPS  RUNS  MATCHES  ERRORS  NS/RUN\n" +
		"7   count_tcp  25600  2     1000  250      3       35.5\n\n" +
		"PROG  MAP       TYPE   KEY_SIZE  VALUE_SIZE  ENTRIES  MAX_ENTRIES\n" +
		"7     config    array  4         4           1        4\n" +
		"7     counters  hash   4         8           4        1024\n"
	if out != want {
		t.Errorf("dump-filter-progs:\n got %q\nwant %q", out, want)
	}
	if out := must("--json", "dump-filter-progs", "br0", "7"); !strings.Contains(out, `"avg_ns": 35.5`) {
		t.Errorf("dump-filter-progs --json:\n%s", out)
	}

	// filter_prog flows: a program in use cannot be unloaded.
	must("add-flow", "br0", "priority=10,in_port=1,filter_prog=7 actions=send_maps(prog=7,map=counters),output:2")
	if out := must("--no-stats", "dump-flows", "br0"); out != " priority=10,in_port=1,filter_prog=7 actions=send_maps(prog=7,map=counters),output:2\n" {
		t.Errorf("dump-flows with filter_prog: %q", out)
	}
	if _, errs, code := ofctl(t, dir, "", "add-flow", "br0", "filter_prog=9 actions=drop"); code != 1 || !strings.Contains(errs, "GOKO_UNKNOWN_PROG") || !strings.Contains(errs, "filter program 9 is not loaded") {
		t.Errorf("flow on an unknown program: exit %d %s", code, errs)
	}
	if _, errs, code := ofctl(t, dir, "", "unload-filter-prog", "br0", "7"); code != 1 || !strings.Contains(errs, "GOKO_PROG_IN_USE") {
		t.Errorf("unload in use: exit %d %s", code, errs)
	}
	must("del-flows", "br0")
	must("unload-filter-prog", "br0", "7")
	if out := must("dump-filter-progs", "br0"); out != "no filter programs loaded\n" {
		t.Errorf("after unload: %q", out)
	}
	if _, errs, code := ofctl(t, dir, "", "dump-map", "br0", "7", "counters"); code != 1 || !strings.Contains(errs, "GOKO_UNKNOWN_PROG") {
		t.Errorf("dump-map of an unloaded program: exit %d %s", code, errs)
	}
}

func TestParseMapBytes(t *testing.T) {
	tests := []struct {
		in   string
		size int
		want string
	}{
		{"5", 4, "05000000"}, {"5", 8, "0500000000000000"}, {"255", 1, "ff"}, {"10.0.0.1", 4, "0a000001"},
		{"0x0a000001", 0, "0a000001"}, {"0xabc", 0, "0abc"}, {"0a 00 00 01", 4, "0a000001"}, {"0a:00:00:01", 0, "0a000001"},
		{"u16:258", 0, "0201"}, {"be16:258", 0, "0102"}, {"be32:1", 0, "00000001"}, {"u64:1", 0, "0100000000000000"},
		{"ip6:::1", 16, "00000000000000000000000000000001"}, {"mac:00:11:22:33:44:55", 6, "001122334455"},
		{"lpm:10.0.0.0/8", 8, "080000000a000000"}, {"u32:1,ip:10.0.0.1", 8, "010000000a000001"}, {"str:ab", 0, "6162"},
	}
	for _, tc := range tests {
		b, err := ParseMapBytes(tc.in, tc.size)
		if err != nil || hexs(b) != tc.want {
			t.Errorf("ParseMapBytes(%q, %d) = %x, %v; want %s", tc.in, tc.size, b, err, tc.want)
		}
	}
	for _, bad := range []struct {
		in   string
		size int
	}{{"", 4}, {"256", 1}, {"5", 0}, {"5", 3}, {"u8:300", 0}, {"ip:1.2.3", 0}, {"foo:1", 0}, {"0xzz", 0}, {"1", 3}} {
		if b, err := ParseMapBytes(bad.in, bad.size); err == nil {
			t.Errorf("ParseMapBytes(%q, %d) = %x, want an error", bad.in, bad.size, b)
		}
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

// runMonitor runs "ofctl monitor" for d while send pushes messages once
// the monitor is connected, and returns what it printed.
func runMonitor(t *testing.T, sw *fakeswitch.Switch, dir string, d time.Duration, send func(), args ...string) (string, string, int) {
	t.Helper()
	type res struct {
		out, errs string
		code      int
	}
	done := make(chan res)
	go func() {
		var out, errb bytes.Buffer
		all := append([]string{"--run-dir", dir, "-t", d.String()}, args...)
		code := Main(all, strings.NewReader(""), &out, &errb)
		done <- res{out.String(), errb.String(), code}
	}()
	deadline := time.Now().Add(d)
	for sw.Connections() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the SET_CONFIG exchange
	send()
	r := <-done
	return r.out, r.errs, r.code
}

func TestMonitor(t *testing.T) {
	sw := fakeswitch.New()
	dir := startSwitch(t, sw)
	frame := []byte("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" +
		"\x45\x00\x00\x28\x00\x01\x00\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02" +
		"\x04\xd2\x00\x50\x00\x00\x00\x01\x00\x00\x00\x00\x50\x02\x20\x00\xab\xcd\x00\x00")
	dump := openflow.GokoMapDump{ProgID: 3, Map: "counters", Entries: []openflow.GokoMapEntry{{Key: []byte{1, 0, 0, 0}, Value: []byte{9, 0, 0, 0, 0, 0, 0, 0}}}}
	send := func() {
		sw.SendAsync(&openflow.PacketIn{BufferID: openflow.NoBuffer, TotalLen: uint16(len(frame)), Reason: openflow.PacketInReasonAction,
			TableID: 2, Cookie: 0x10, Match: openflow.NewMatch(openflow.OXMInPortVal(1)), Data: frame})
		sw.SendAsync(&openflow.FlowRemoved{Cookie: 5, Priority: 10, Reason: openflow.FlowRemovedHardTimeout, TableID: 0,
			DurationSec: 3, HardTimeout: 3, PacketCount: 1, ByteCount: 54, Match: openflow.NewMatch(openflow.OXMInPortVal(1))})
		sw.SendAsync(&openflow.PortStatus{Reason: openflow.PortReasonModify, Desc: sw.Ports[0]})
		sw.SendAsync(&openflow.Experimenter{Experimenter: openflow.GokoExperimenter, ExpType: openflow.GokoMapContents, Data: dump.Marshal()})
	}
	out, errs, code := runMonitor(t, sw, dir, time.Second, send, "monitor", "br0", "65535")
	want := "OFPT_PACKET_IN (OF1.3) (xid=0x0): table_id=2 cookie=0x10 total_len=54 in_port=1 (via action) data_len=54 (unbuffered)\n" +
		"tcp,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1234,tp_dst=80,tcp_flags=syn tcp_csum:abcd\n" +
		"OFPT_FLOW_REMOVED (OF1.3) (xid=0x0): priority=10,in_port=1 reason=hard table_id=0 cookie:0x5 duration3s idle0 hard3 pkts1 bytes54\n" +
		"OFPT_PORT_STATUS (OF1.3) (xid=0x0): MOD: 1(p1): addr:02:00:00:00:00:01\n     config:     0\n     state:      LIVE\n     current:    10GB-FD COPPER\n     speed: 10000 Mbps now, 0 Mbps max\n" +
		"GOKO_MAP_CONTENTS (xid=0x0): prog=3 map=counters entries=1\n key=1 value=9\n"
	if code != 0 || out != want {
		t.Errorf("monitor: exit %d %s\n got:\n%s\nwant:\n%s", code, errs, out, want)
	}
	if cfg := sw.Config; cfg.MissSendLen != 65535 {
		t.Errorf("monitor 65535 left miss_send_len at %d", cfg.MissSendLen)
	}
	out, errs, code = runMonitor(t, sw, dir, time.Second, send, "--json", "monitor", "br0")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.Contains(lines[0], `"type":"packet_in"`) || !strings.Contains(lines[0], "tp_dst=80") ||
		!strings.Contains(lines[3], `"type":"map_contents"`) || !strings.Contains(lines[1], `"reason":"hard"`) {
		t.Errorf("monitor --json: exit %d %s\n%s", code, errs, out)
	}
}

func TestPacketOut(t *testing.T) {
	sw := fakeswitch.New()
	dir := startSwitch(t, sw)
	pkt := "ffffffffffff0200000000010806000108000604000102000000000100000000000000000000"
	for _, args := range [][]string{
		{"packet-out", "br0", "in_port=p1 packet=" + pkt + " actions=output:p2"},
		{"packet-out", "br0", "p1", "output:2", pkt, pkt},
	} {
		if _, errs, code := ofctl(t, dir, "", args...); code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
	}
	var pos []*openflow.PacketOut
	for _, r := range sw.Received() {
		if po, ok := r.Msg.(*openflow.PacketOut); ok {
			pos = append(pos, po)
		}
	}
	if len(pos) != 3 || pos[0].InPort != 1 || hexs(pos[0].Data) != pkt || len(pos[0].Actions) != 1 ||
		pos[0].Actions[0] != (openflow.ActionOutput{Port: 2}) || pos[2].InPort != 1 {
		t.Errorf("packet-outs: %+v", pos)
	}
	for _, bad := range [][]string{
		{"packet-out", "br0", "in_port=1 actions=output:2"},
		{"packet-out", "br0", "in_port=1 packet=ffff actions=output:2"},
		{"packet-out", "br0", "packet=" + pkt},
		{"packet-out", "br0", "1", "output:2"},
	} {
		if _, _, code := ofctl(t, dir, "", bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}

func TestSortFlows(t *testing.T) {
	sw := fakeswitch.New()
	dir := startSwitch(t, sw)
	flows := "priority=5,tcp,tp_dst=80 actions=drop\npriority=9,ip,nw_src=10.0.0.2 actions=drop\n" +
		"priority=7,ip,nw_src=10.0.0.1 actions=drop\npriority=1,udp,tp_dst=53 actions=drop\npriority=3 actions=drop\n"
	if _, errs, code := ofctl(t, dir, flows, "add-flows", "br0", "-"); code != 0 {
		t.Fatal(errs)
	}
	prios := func(args ...string) string {
		out, errs, code := ofctl(t, dir, "", append([]string{"--no-stats"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
		var p []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			p = append(p, strings.TrimPrefix(strings.Fields(strings.Split(l, ",")[0])[0], "priority="))
		}
		return strings.Join(p, " ")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sort", "dump-flows", "br0"}, "1 3 5 7 9"},
		{[]string{"--rsort", "dump-flows", "br0"}, "9 7 5 3 1"},
		{[]string{"--sort=nw_src", "dump-flows", "br0"}, "7 9 5 1 3"},
		{[]string{"--rsort=nw_src", "dump-flows", "br0"}, "9 7 5 1 3"},
		{[]string{"--sort=tp_dst", "--rsort", "dump-flows", "br0"}, "1 5 9 7 3"},
	} {
		if got := prios(tc.args...); got != tc.want {
			t.Errorf("%v: priorities %s, want %s", tc.args, got, tc.want)
		}
	}
	if _, _, code := ofctl(t, dir, "", "--sort=frob", "dump-flows", "br0"); code != 2 {
		t.Errorf("--sort=frob: exit %d", code)
	}
}
