package ofproto

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/openflow"
	"github.com/goko-net/goko/ubpf"
)

// compileFilter builds testdata/NAME.c with clang, as a researcher would.
func compileFilter(t testing.TB, name string, defines ...string) []byte {
	t.Helper()
	return compileC(t, filepath.Join("testdata", name+".c"), defines...)
}

// compileExample builds examples/bpf/NAME.c.
func compileExample(t testing.TB, name string) []byte {
	t.Helper()
	return compileC(t, filepath.Join("..", "examples", "bpf", name+".c"), "-I../ubpf/include")
}

func compileC(t testing.TB, src string, flags ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang not installed")
	}
	out := filepath.Join(t.TempDir(), "prog.o")
	args := []string{"-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu"}
	for _, f := range flags {
		if !strings.HasPrefix(f, "-") {
			f = "-D" + f
		}
		args = append(args, f)
	}
	args = append(args, "-c", src, "-o", out)
	if b, err := exec.Command("clang", args...).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	obj, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// loadProg sends obj in chunks of chunk bytes and returns the switch's
// answer (FILTER_PROG_LOADED or an error).
func (ts *testSwitch) loadProg(id uint32, obj []byte, chunk int) openflow.Message {
	return ts.loadProgBudget(id, obj, chunk, 0)
}

// loadProgBudget is loadProg with a run budget in the first chunk.
func (ts *testSwitch) loadProgBudget(id uint32, obj []byte, chunk int, budget uint64) openflow.Message {
	ts.t.Helper()
	for off := 0; ; off += chunk {
		end := min(off+chunk, len(obj))
		ld := openflow.GokoLoadFilterProgMsg{ProgID: id, TotalLen: uint32(len(obj)), Offset: uint32(off), Data: obj[off:end]}
		if off == 0 {
			ld.RunBudget = budget
		}
		if end < len(obj) {
			ld.Flags = openflow.GokoLoadMore
		}
		ts.send(&openflow.Experimenter{Experimenter: openflow.GokoExperimenter, ExpType: openflow.GokoLoadFilterProg, Data: ld.Marshal()})
		if end == len(obj) {
			break
		}
	}
	return ts.recv()
}

func (ts *testSwitch) gokoRequest(expType uint32, body []byte) *openflow.ErrorMsg {
	for _, r := range ts.request(&openflow.Experimenter{Experimenter: openflow.GokoExperimenter, ExpType: expType, Data: body}) {
		if e, ok := r.(*openflow.ErrorMsg); ok {
			return e
		}
	}
	return nil
}

func (ts *testSwitch) dumpMap(id uint32, name string) *openflow.GokoMapDump {
	ts.t.Helper()
	ref := openflow.GokoMapRef{ProgID: id, Map: name}
	replies := ts.request(&openflow.MultipartRequest{Body: &openflow.MultipartExperimenterBody{
		Experimenter: openflow.GokoExperimenter, ExpType: openflow.GokoMPMap, Data: ref.Marshal()}})
	var d openflow.GokoMapDump
	if len(replies) != 1 {
		ts.t.Fatalf("map dump: %d replies", len(replies))
	}
	mp, ok := replies[0].(*openflow.MultipartReply)
	if !ok {
		ts.t.Fatalf("map dump: got %+v", replies[0])
	}
	if err := d.Unmarshal(mp.Body.(*openflow.MultipartExperimenterBody).Data); err != nil {
		ts.t.Fatal(err)
	}
	return &d
}

func udpTo(port uint16) []byte {
	f := frame(2, 17, port)
	return f
}

func TestFilterProgLifecycle(t *testing.T) {
	ts := newTestSwitch(t, 3)
	obj := compileFilter(t, "port53")

	// Loading in small chunks exercises reassembly.
	r := ts.loadProg(1, obj, 700)
	loaded, ok := r.(*openflow.Experimenter)
	if !ok || loaded.ExpType != openflow.GokoFilterProgLoaded {
		t.Fatalf("load: got %+v", r)
	}
	var info openflow.GokoFilterProgList
	if err := info.Unmarshal(loaded.Data); err != nil || len(info.Progs) != 1 || info.Progs[0].Name != "port_filter" ||
		len(info.Progs[0].Maps) != 1 || info.Progs[0].Maps[0].Name != "seen" {
		t.Fatalf("load reply %+v %v", info, err)
	}

	m := openflow.NewMatch(openflow.OXMInPortVal(1), openflow.OXMFilterProg(1))
	if e := ts.flowMod(addFlow(20, m, output(2))); e != nil {
		t.Fatalf("flow with filter_prog: %v", e.Code)
	}
	if e := ts.flowMod(addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(1)), output(3))); e != nil {
		t.Fatal(e.Code)
	}
	// A filter that says no sends the lookup on to the lower-priority flow.
	for i := 0; i < 5; i++ {
		ts.ports[1].Inject(udpTo(53))
		ts.ports[1].Inject(udpTo(54))
	}
	for i := 0; i < 5; i++ {
		if f, ok := ts.ports[2].Receive(2 * time.Second); !ok || binary.BigEndian.Uint16(f[36:]) != 53 {
			t.Fatalf("port-53 packet %d not sent to port 2", i)
		}
		if f, ok := ts.ports[3].Receive(2 * time.Second); !ok || binary.BigEndian.Uint16(f[36:]) != 54 {
			t.Fatalf("port-54 packet %d not sent to port 3", i)
		}
	}
	d := ts.dumpMap(1, "seen")
	if len(d.Entries) != 1 || binary.LittleEndian.Uint64(d.Entries[0].Value) != 10 {
		t.Fatalf("map seen = %+v, want one entry counting 10 runs (each packet runs the program once)", d.Entries)
	}

	// Replace program 1 by one matching port 54: no barrier, no flow
	// change; the map keeps its contents (identical declaration).
	if r := ts.loadProg(1, compileFilter(t, "port53", "PORT=54"), 1<<20); r.(*openflow.Experimenter).ExpType != openflow.GokoFilterProgLoaded {
		t.Fatalf("reload: %+v", r)
	}
	ts.ports[1].Inject(udpTo(54))
	if f, ok := ts.ports[2].Receive(2 * time.Second); !ok || binary.BigEndian.Uint16(f[36:]) != 54 {
		t.Fatal("after reload, port-54 packets should match the filter flow")
	}
	if n := binary.LittleEndian.Uint64(ts.dumpMap(1, "seen").Entries[0].Value); n != 11 {
		t.Errorf("map lost its contents across reload: %d, want 11", n)
	}

	// Map updates from the controller.
	up := openflow.GokoMapUpdate{ProgID: 1, Map: "seen", Key: make([]byte, 4), Value: make([]byte, 8)}
	if e := ts.gokoRequest(openflow.GokoUpdateMap, up.Marshal()); e != nil {
		t.Fatalf("update-map: %v %s", e.Code, e.Data)
	}
	bad := openflow.GokoMapUpdate{ProgID: 1, Map: "seen", Key: make([]byte, 3), Value: make([]byte, 8)}
	if e := ts.gokoRequest(openflow.GokoUpdateMap, bad.Marshal()); e == nil || e.Code.Code() != openflow.GokoErrBadKey || e.Experimenter != openflow.GokoExperimenter {
		t.Fatalf("3-byte key accepted: %+v", e)
	}

	// Unloading a program flows use is refused; after deleting them it works.
	ref := openflow.GokoProgRef{ProgID: 1}
	if e := ts.gokoRequest(openflow.GokoUnloadFilterProg, ref.Marshal()); e == nil || e.Code.Code() != openflow.GokoErrProgInUse {
		t.Fatalf("unload in use: %+v", e)
	}
	del := &openflow.FlowMod{Command: openflow.FlowDelete, TableID: 0xff, OutPort: openflow.PortAny, OutGroup: openflow.GroupAny,
		BufferID: openflow.NoBuffer, Match: openflow.NewMatch(openflow.OXMFilterProg(1))}
	if e := ts.flowMod(del); e != nil {
		t.Fatal(e.Code)
	}
	if e := ts.gokoRequest(openflow.GokoUnloadFilterProg, ref.Marshal()); e != nil {
		t.Fatalf("unload: %v %s", e.Code, e.Data)
	}
	// The lower-priority flow survived (it has no filter).
	ts.ports[1].Inject(udpTo(53))
	if _, ok := ts.ports[3].Receive(2 * time.Second); !ok {
		t.Fatal("flow without filter was deleted too")
	}
}

// The run budget travels with the load and reaches the program; loads
// without one get the bridge's.
func TestFilterProgRunBudget(t *testing.T) {
	ts := newTestSwitch(t, 3)
	obj := compileFilter(t, "port53")
	if r := ts.loadProgBudget(1, obj, 700, 12345); r.(*openflow.Experimenter).ExpType != openflow.GokoFilterProgLoaded {
		t.Fatalf("load: got %+v", r)
	}
	if r := ts.loadProg(2, obj, 1<<20); r.(*openflow.Experimenter).ExpType != openflow.GokoFilterProgLoaded {
		t.Fatalf("load: got %+v", r)
	}
	for id, want := range map[uint32]int{1: 12345, 2: ubpf.DefaultRunBudget} {
		ts.b.mu.RLock()
		got := ts.b.filters.progs[id].prog.Load().RunBudget()
		ts.b.mu.RUnlock()
		if got != want {
			t.Errorf("program %d: run budget %d, want %d", id, got, want)
		}
	}
	e := ts.gokoRequest(openflow.GokoLoadFilterProg, (&openflow.GokoLoadFilterProgMsg{ProgID: 3, TotalLen: uint32(len(obj)), RunBudget: 1 << 40, Data: obj}).Marshal())
	if e == nil || e.Code.Code() != openflow.GokoErrBadRequest {
		t.Errorf("a budget of 2^40: got %v, want GOKO_BAD_REQUEST", e)
	}
}

func TestFilterProgErrors(t *testing.T) {
	ts := newTestSwitch(t, 2)
	r := ts.loadProg(2, compileFilter(t, "unbounded"), 1<<20)
	e, ok := r.(*openflow.ErrorMsg)
	if !ok || e.Code.Type() != openflow.ETExperimenter || e.Code.Code() != openflow.GokoErrVerifier {
		t.Fatalf("verifier rejection: got %+v", r)
	}
	if !strings.Contains(string(e.Data), "load filter 2") {
		t.Errorf("rejection text lacks context: %q", e.Data)
	}
	r = ts.loadProg(2, []byte("not an elf object"), 1<<20)
	if e, ok := r.(*openflow.ErrorMsg); !ok || e.Code.Code() != openflow.GokoErrBadELF {
		t.Fatalf("garbage object: got %+v", r)
	}
	if e := ts.flowMod(addFlow(5, openflow.NewMatch(openflow.OXMFilterProg(9)), output(2))); e == nil || e.Code.Code() != openflow.GokoErrUnknownProg {
		t.Fatalf("flow on an unloaded program: %+v", e)
	}
	// An out-of-sequence chunk is refused.
	ld := openflow.GokoLoadFilterProgMsg{ProgID: 3, TotalLen: 100, Offset: 50, Data: make([]byte, 10)}
	if e := ts.gokoRequest(openflow.GokoLoadFilterProg, ld.Marshal()); e == nil || e.Code.Code() != openflow.GokoErrBadChunk {
		t.Fatalf("bad chunk: %+v", e)
	}
}

// TestVMPoolSize checks that the goroutines that can run at once can each
// hold a shared VM thread (the pmds have their own, datapath's).
func TestVMPoolSize(t *testing.T) {
	p := newVMPool()
	if len(p.slots) <= runtime.GOMAXPROCS(0) {
		t.Fatalf("%d shared slots for GOMAXPROCS %d", len(p.slots), runtime.GOMAXPROCS(0))
	}
	held := map[*vmSlot]bool{}
	for i := 0; i < len(p.slots); i++ {
		s := p.acquire()
		if held[s] {
			t.Fatalf("slot handed out twice")
		}
		held[s] = true
	}
	for s := range held {
		s.busy.Store(false)
	}
}
