package dpdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/goko-net/goko/datapath"
)

// atExit holds clean-ups of fixtures shared by several benchmark runs; they
// run in reverse order before the EAL closes.
var atExit []func()

// testEAL is the one EAL of the test binary (EAL can start once per process).
var testEAL *EAL

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if mode := os.Getenv("GOKO_DPDK_TEST_INIT_FAILURE"); mode != "" {
		return initFailure(mode)
	}
	cfg := EALConfig{FilePrefix: fmt.Sprintf("goko-test-%d", os.Getpid())}
	if v := os.Getenv("GOKO_DPDK_TEST_EAL_ARGS"); v != "" {
		cfg.ExtraArgs = strings.Fields(v)
	}
	if v, err := strconv.Atoi(os.Getenv("GOKO_DPDK_TEST_LOG")); err == nil {
		cfg.LogLevel = LogLevel(v)
	}
	e, err := Init(cfg)
	if err != nil {
		if os.Geteuid() != 0 {
			fmt.Printf("skipping datapath/dpdk tests, EAL does not start without root: %v\n", err)
			return 0
		}
		fmt.Println(err)
		return 1
	}
	testEAL = e
	fmt.Printf("EAL args: %s\n", strings.Join(e.Args(), " "))
	code := m.Run()
	for i := len(atExit) - 1; i >= 0; i-- {
		atExit[i]()
	}
	// EAL.Close closes ports left open; they are inert afterwards.
	left, err := e.OpenPort("net_null99", PortOptions{})
	if err != nil {
		fmt.Println(err)
		code = 1
	}
	dir := e.RuntimeDir()
	if err := e.Close(); err != nil {
		fmt.Printf("EAL.Close: %v\n", err)
		code = 1
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		fmt.Printf("EAL runtime dir %s still exists after Close (stat: %v)\n", dir, err)
		code = 1
	}
	if err := e.Close(); err != nil {
		fmt.Printf("second EAL.Close: %v\n", err)
		code = 1
	}
	if left != nil {
		if err := left.Close(); err != nil || left.Recv(make([]datapath.Packet, 1)) != 0 || left.Stats().RxPackets != 0 {
			fmt.Printf("port left open is not inert after EAL.Close: %v\n", err)
			code = 1
		}
	}
	if _, err := e.OpenPort("net_null98", PortOptions{}); err == nil {
		fmt.Println("OpenPort after EAL.Close succeeded")
		code = 1
	}
	return code
}

// initFailure runs in a child process of TestInitFailures: it makes Init
// fail in the way mode names, prints the error and reports whether EAL's
// runtime directory is gone.
func initFailure(mode string) int {
	cfg := EALConfig{FilePrefix: fmt.Sprintf("goko-test-%d", os.Getpid())}
	switch mode {
	case "hugepages":
		cfg.Hugepages = true
	case "pool":
		cfg.MemoryMB = 64
		cfg.Mbufs = 100000
	case "args":
		cfg.ExtraArgs = []string{"--no-such-eal-option"}
	}
	e, err := Init(cfg)
	if err == nil {
		e.Close()
		fmt.Println("Init succeeded")
		return 1
	}
	fmt.Printf("Init: %v\n", err)
	if _, err := os.Stat(runtimeDir(cfg.FilePrefix)); !errors.Is(err, os.ErrNotExist) {
		fmt.Printf("runtime dir left behind (%v)\n", err)
		return 1
	}
	return 0
}

func TestInitFailures(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{"hugepages", "HugePages_Total is 0"},
		{"pool", "creating a pool of 100000 mbufs"},
		{"args", "rte_eal_init"},
	} {
		if tc.mode == "hugepages" && hugepagesReserved() {
			continue
		}
		cmd := exec.Command(os.Args[0], "-test.run=NONE")
		cmd.Env = append(os.Environ(), "GOKO_DPDK_TEST_INIT_FAILURE="+tc.mode)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: %v\n%s", tc.mode, err, out)
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "Init: ") {
				t.Logf("%s: %s", tc.mode, line)
			}
		}
	}
}

func hugepagesReserved() bool {
	return checkHugepages() == nil
}

// openPort opens devargs and closes it when the test ends.
func openPort(tb testing.TB, devargs string, opts PortOptions) *Port {
	tb.Helper()
	p, err := testEAL.OpenPort(devargs, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("closing %s: %v", devargs, err)
		}
	})
	return p
}

const testEtherType = 0x88b5 // IEEE local experimental

// testFrame returns an Ethernet frame of size bytes whose payload carries
// seq and tag, so that receivers can recognise it among other traffic.
func testFrame(seq, size int, tag uint32) []byte {
	if size < 60 {
		size = 60
	}
	f := make([]byte, size)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01})
	binary.BigEndian.PutUint16(f[12:], testEtherType)
	binary.BigEndian.PutUint32(f[14:], tag)
	binary.BigEndian.PutUint32(f[18:], uint32(seq))
	for i := 22; i < size; i++ {
		f[i] = byte(seq + i)
	}
	return f
}

// isTestFrame reports whether f is a testFrame with tag, and its seq.
func isTestFrame(f []byte, tag uint32) (int, bool) {
	if len(f) < 22 || binary.BigEndian.Uint16(f[12:]) != testEtherType || binary.BigEndian.Uint32(f[14:]) != tag {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(f[18:])), true
}

// recvN receives from p until it has n packets or timeout passes.
func recvN(tb testing.TB, p *Port, n int, timeout time.Duration) []datapath.Packet {
	tb.Helper()
	out := make([]datapath.Packet, 0, n)
	buf := make([]datapath.Packet, datapath.BurstSize)
	deadline := time.Now().Add(timeout)
	for len(out) < n && time.Now().Before(deadline) {
		k := p.Recv(buf[:min(len(buf), n-len(out))])
		out = append(out, buf[:k]...)
		if k == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return out
}

// loopBurst sends n test frames (tag, frame i of size(i) bytes) on a ring
// port and receives them back as mbufs: the frames sent and the packets
// received.
func loopBurst(t *testing.T, src *Port, n int, tag uint32, size func(i int) int) (frames, pkts []datapath.Packet) {
	t.Helper()
	frames = make([]datapath.Packet, n)
	for i := range frames {
		frames[i].Data = testFrame(i, size(i), tag)
	}
	if sent := src.Send(ptrs(frames)); sent != n {
		t.Fatalf("Send: %d of %d", sent, n)
	}
	pkts = recvN(t, src, n, time.Second)
	if len(pkts) != n {
		t.Fatalf("received %d of %d", len(pkts), n)
	}
	return frames, pkts
}

func ptrs(pkts []datapath.Packet) []*datapath.Packet {
	out := make([]*datapath.Packet, len(pkts))
	for i := range pkts {
		out[i] = &pkts[i]
	}
	return out
}

// inUse tops up the ports' copy stashes and returns the pool's in-use
// count, so that two calls are comparable.
func inUse(ports ...*Port) int {
	for _, p := range ports {
		p.fillStashes()
	}
	return testEAL.MbufsInUse()
}

func TestInitTwice(t *testing.T) {
	if _, err := Init(EALConfig{}); err == nil || !strings.Contains(err.Error(), "once per process") {
		t.Fatalf("second Init: got %v, want an error", err)
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(EALConfig{FilePrefix: "x", Lcores: "0"}.Args(), " ")
	want := "-l 0 --no-huge -m 512 --no-pci --no-telemetry --file-prefix=x --log-level=*:6"
	if got != want {
		t.Errorf("Args() = %q, want %q", got, want)
	}
	got = strings.Join(EALConfig{FilePrefix: "x", Lcores: "1", Hugepages: true, PCI: true, Telemetry: true,
		MemoryMB: 1024, LogLevel: LogDebug, ExtraArgs: []string{"--legacy-mem"}}.Args(), " ")
	want = "-l 1 -m 1024 --file-prefix=x --log-level=*:8 --legacy-mem"
	if got != want {
		t.Errorf("Args() = %q, want %q", got, want)
	}
	got = strings.Join(EALConfig{FilePrefix: "x", Lcores: "0", ExtraArgs: []string{"--log-level=*:debug"}}.Args(), " ")
	want = "-l 0 --no-huge -m 512 --no-pci --no-telemetry --file-prefix=x --log-level=*:debug"
	if got != want {
		t.Errorf("Args() = %q, want %q", got, want)
	}
}

// TestRingRoundTrip sends frames of many sizes through a net_ring port,
// whose tx ring is its rx ring, with the copy path (Buf == nil), and then
// again zero-copy, checking every byte.
func TestRingRoundTrip(t *testing.T) {
	p := openPort(t, "net_ring0", PortOptions{})
	before := inUse(p)
	info := p.Info()
	if info.Name != "net_ring0" || !info.LinkUp {
		t.Errorf("Info() = %+v, want name net_ring0, link up", info)
	}

	const n = 1000
	const tag = 0x1001
	sizes := []int{60, 64, 128, 333, 1024, 1514, 2048}
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = testFrame(i, sizes[i%len(sizes)], tag)
	}
	var got []datapath.Packet
	for i := 0; i < n; i += datapath.BurstSize {
		j := min(i+datapath.BurstSize, n)
		burst := make([]datapath.Packet, j-i)
		for k := range burst {
			burst[k].Data = frames[i+k]
		}
		if sent := p.Send(ptrs(burst)); sent != j-i {
			t.Fatalf("Send copied burst: %d of %d accepted", sent, j-i)
		}
		got = append(got, recvN(t, p, j-i, time.Second)...)
	}
	if len(got) != n {
		t.Fatalf("received %d of %d", len(got), n)
	}
	for i, pk := range got {
		if !bytes.Equal(pk.Data, frames[i]) {
			t.Fatalf("frame %d: got %d bytes % x..., want %d bytes", i, len(pk.Data), pk.Data[:22], len(frames[i]))
		}
		if pk.Buf == nil || mbufRefcnt(pk.Buf) != 1 {
			t.Fatalf("frame %d: Buf %p", i, pk.Buf)
		}
		if headroom(&got[i]) != 128 {
			t.Fatalf("frame %d: headroom %d, want 128", i, headroom(&got[i]))
		}
	}

	// Zero copy: the same mbufs come back.
	for i := 0; i < n; i += datapath.BurstSize {
		j := min(i+datapath.BurstSize, n)
		if sent := p.Send(ptrs(got[i:j])); sent != j-i {
			t.Fatalf("Send zero-copy burst: %d of %d accepted", sent, j-i)
		}
		back := recvN(t, p, j-i, time.Second)
		for k := range back {
			if back[k].Buf != got[i+k].Buf || !bytes.Equal(back[k].Data, frames[i+k]) {
				t.Fatalf("zero-copy frame %d: Buf %p (sent %p), %d bytes", i+k, back[k].Buf, got[i+k].Buf, len(back[k].Data))
			}
			if r := mbufRefcnt(back[k].Buf); r != 2 {
				t.Fatalf("zero-copy frame %d: refcount %d, want 2 (ours + the one received again)", i+k, r)
			}
		}
		p.Release(back)
		if back[0].Buf != nil || back[0].Data != nil {
			t.Fatal("Release did not clear the packets")
		}
	}
	p.Release(got)
	st := p.Stats()
	if st.TxPackets != 2*n || st.RxPackets != 2*n || st.TxDropped != 0 {
		t.Errorf("Stats() = %+v, want 2000 tx and rx packets, no drops", st)
	}
	if after := inUse(p); after != before {
		t.Errorf("mbufs in use: %d before, %d after: leak", before, after)
	}
}

// TestZeroCopyFlood sends one received burst to three ports (two net_ring
// loopbacks and a net_null that frees on transmit), releases it once, and
// checks refcounts, contents and that no mbuf leaks.
func TestZeroCopyFlood(t *testing.T) {
	src := openPort(t, "net_ring1", PortOptions{})
	a := openPort(t, "net_ring2", PortOptions{})
	b := openPort(t, "net_ring3", PortOptions{})
	null := openPort(t, "net_null1", PortOptions{})
	ports := []*Port{src, a, b, null}
	before := inUse(ports...)
	availBefore := testEAL.MbufsAvailable()

	const tag = 0x1002
	n := datapath.BurstSize
	frames, pkts := loopBurst(t, src, n, tag, func(i int) int { return 64 + i })
	for want, p := range []*Port{a, b, null} {
		if sent := p.Send(ptrs(pkts)); sent != n {
			t.Fatalf("Send to %s: %d of %d", p.Info().Name, sent, n)
		}
		if want < 2 { // net_null frees on transmit
			for i := range pkts {
				if r := mbufRefcnt(pkts[i].Buf); r != want+2 {
					t.Fatalf("after sending to %s: refcount %d, want %d", p.Info().Name, r, want+2)
				}
			}
		}
	}
	bufs := make([]unsafe.Pointer, n)
	for i := range pkts {
		bufs[i] = pkts[i].Buf
	}
	src.Release(pkts)
	for _, p := range []*Port{a, b} {
		got := recvN(t, p, n, time.Second)
		if len(got) != n {
			t.Fatalf("%s received %d of %d", p.Info().Name, len(got), n)
		}
		for i := range got {
			if got[i].Buf != bufs[i] || !bytes.Equal(got[i].Data, frames[i].Data) {
				t.Fatalf("%s frame %d: not the same mbuf (%p, sent %p) or bytes", p.Info().Name, i, got[i].Buf, bufs[i])
			}
		}
		p.Release(got)
	}
	if st := null.Stats(); st.TxPackets != uint64(n) {
		t.Errorf("net_null Stats() = %+v, want %d tx packets", st, n)
	}
	if after := inUse(ports...); after != before {
		t.Errorf("mbufs in use: %d before, %d after: leak", before, after)
	}
	if availAfter := testEAL.MbufsAvailable(); availAfter != availBefore {
		t.Errorf("rte_mempool_avail_count: %d before, %d after", availBefore, availAfter)
	}
}

// TestZeroCopyViews sends one mbuf with two different views (full frame,
// and popped / pushed headers) to two ports while both are in flight: the
// second must travel as an indirect mbuf, and neither view is clobbered.
func TestZeroCopyViews(t *testing.T) {
	src := openPort(t, "net_ring4", PortOptions{})
	a := openPort(t, "net_ring5", PortOptions{})
	b := openPort(t, "net_ring6", PortOptions{})
	before := inUse(src, a, b)

	const tag = 0x1003
	frame := testFrame(7, 100, tag)
	src.Send([]*datapath.Packet{{Data: frame}})
	got := recvN(t, src, 1, time.Second)
	if len(got) != 1 {
		t.Fatal("nothing received")
	}
	full := got[0]

	// Send the full view to a; while a still holds the mbuf, send a
	// narrower view (the first 4 bytes popped) of the same buffer to b.
	a.Send([]*datapath.Packet{&full})
	if mbufRefcnt(full.Buf) != 2 {
		t.Fatalf("refcount %d after one send", mbufRefcnt(full.Buf))
	}
	popped := datapath.Packet{Data: full.Data[4:], Buf: full.Buf}
	b.Send([]*datapath.Packet{&popped})

	ra := recvN(t, a, 1, time.Second)
	rb := recvN(t, b, 1, time.Second)
	if len(ra) != 1 || len(rb) != 1 {
		t.Fatalf("received %d on a, %d on b", len(ra), len(rb))
	}
	if ra[0].Buf != full.Buf || !bytes.Equal(ra[0].Data, frame) {
		t.Errorf("a: Buf %p (want %p), data ok=%v", ra[0].Buf, full.Buf, bytes.Equal(ra[0].Data, frame))
	}
	if rb[0].Buf == full.Buf || !mbufIndirect(rb[0].Buf) || !bytes.Equal(rb[0].Data, frame[4:]) {
		t.Errorf("b: Buf %p indirect=%v, data ok=%v: want an indirect mbuf with frame[4:]",
			rb[0].Buf, mbufIndirect(rb[0].Buf), bytes.Equal(rb[0].Data, frame[4:]))
	}
	a.Release(ra)
	b.Release(rb)

	// Now that nobody else holds it, push a 4-byte header in place.
	if r := mbufRefcnt(full.Buf); r != 1 {
		t.Fatalf("refcount %d after the devices are done, want 1", r)
	}
	pushed := full
	if !prepend(&pushed, 4) {
		t.Fatal("prepend(4) failed")
	}
	copy(pushed.Data[0:12], frame[0:12])
	copy(pushed.Data[12:16], []byte{0x81, 0x00, 0x00, 0x05})
	a.Send([]*datapath.Packet{&pushed})
	ra = recvN(t, a, 1, time.Second)
	if len(ra) != 1 || ra[0].Buf != full.Buf || len(ra[0].Data) != len(frame)+4 ||
		!bytes.Equal(ra[0].Data[12:16], []byte{0x81, 0x00, 0x00, 0x05}) || !bytes.Equal(ra[0].Data[16:], frame[12:]) {
		t.Errorf("pushed frame came back wrong: %d packets", len(ra))
	}
	a.Release(ra)
	if !extend(&pushed, 10) || len(pushed.Data) != len(frame)+14 {
		t.Error("extend(10) failed")
	}
	if prepend(&pushed, headroom(&pushed)+1) || extend(&pushed, tailroom(&pushed)+1) {
		t.Error("Prepend/Extend beyond the buffer succeeded")
	}
	src.Release(got)
	if after := inUse(src, a, b); after != before {
		t.Errorf("mbufs in use: %d before, %d after: leak", before, after)
	}
}

// TestSendAndRelease floods a burst to two ports with Send and hands it to
// a third with SendAndRelease, including packets that take the copy path.
func TestSendAndRelease(t *testing.T) {
	src := openPort(t, "net_ring10", PortOptions{})
	a := openPort(t, "net_ring11", PortOptions{})
	b := openPort(t, "net_ring12", PortOptions{})
	before := inUse(src, a, b)
	const tag = 0x1006
	n := 8
	frames, pkts := loopBurst(t, src, n, tag, func(int) int { return 70 })
	a.Send(ptrs(pkts))
	pkts[1].Data = pkts[1].Data[4:]                       // another view while a holds it: indirect
	pkts[2].Data = append([]byte(nil), frames[2].Data...) // Go memory: copy, then free the mbuf
	pkts[3].Data = nil                                    // dropped, mbuf still freed
	want := [][]byte{frames[0].Data, frames[1].Data[4:], frames[2].Data}
	for i := 4; i < n; i++ {
		want = append(want, frames[i].Data)
	}
	if sent := b.SendAndRelease(ptrs(pkts)); sent != n-1 {
		t.Errorf("SendAndRelease: %d accepted, want %d", sent, n-1)
	}
	for i := range pkts {
		if pkts[i].Buf != nil || pkts[i].Data != nil {
			t.Fatalf("packet %d not cleared", i)
		}
	}
	ga := recvN(t, a, n, time.Second)
	gb := recvN(t, b, n-1, time.Second)
	if len(ga) != n || len(gb) != n-1 {
		t.Fatalf("received %d on a, %d on b", len(ga), len(gb))
	}
	for i := range ga {
		if !bytes.Equal(ga[i].Data, frames[i].Data) {
			t.Errorf("a frame %d differs", i)
		}
	}
	for i := range gb {
		if !bytes.Equal(gb[i].Data, want[i]) {
			t.Errorf("b frame %d differs", i)
		}
	}
	a.Release(ga)
	b.Release(gb)
	if after := inUse(src, a, b); after != before {
		t.Errorf("mbufs in use: %d before, %d after: leak", before, after)
	}
}

// TestSendHandoff hands some packets of a burst to a port with
// SendHandoff: those it takes over must not be released again (the leak
// and double-free check is the pool count at the end), and those it cannot
// take (Go memory, a view outside the mbuf, dropped) keep own clear and
// are released by the caller.
func TestSendHandoff(t *testing.T) {
	src := openPort(t, "net_ring13", PortOptions{})
	a := openPort(t, "net_ring14", PortOptions{})
	before := inUse(src, a)
	const tag = 0x1007
	n := 8
	frames, pkts := loopBurst(t, src, n, tag, func(int) int { return 70 })
	rel := append([]datapath.Packet(nil), pkts...)        // the caller's references
	pkts[2].Data = append([]byte(nil), frames[2].Data...) // Go memory: copied, not taken
	pkts[3].Data = nil                                    // dropped, not taken
	pkts[4].Data = pkts[4].Data[4:]                       // another view, sole owner: taken
	own := []bool{true, false, true, true, true, true, false, true}
	wantOwn := []bool{true, false, false, false, true, true, false, true}
	if sent := a.SendHandoff(0, ptrs(pkts), own); sent != n-1 {
		t.Errorf("SendHandoff: %d accepted, want %d", sent, n-1)
	}
	for i := range own {
		if own[i] != wantOwn[i] {
			t.Errorf("own[%d] = %v after SendHandoff, want %v", i, own[i], wantOwn[i])
		}
	}
	got := recvN(t, a, n-1, time.Second)
	if len(got) != n-1 {
		t.Fatalf("received %d of %d", len(got), n-1)
	}
	want := [][]byte{frames[0].Data, frames[1].Data, frames[2].Data, frames[4].Data[4:], frames[5].Data, frames[6].Data, frames[7].Data}
	for i := range got {
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Errorf("frame %d differs", i)
		}
	}
	var keep []datapath.Packet
	for i := range rel {
		if !own[i] {
			keep = append(keep, rel[i])
		}
	}
	src.Release(keep)
	a.Release(got)
	if after := inUse(src, a); after != before {
		t.Errorf("mbufs in use: %d before, %d after: leak or double free", before, after)
	}
}

// TestCopyPath covers packets that are not (or no longer) in an mbuf:
// Go memory with Buf nil, Go memory with a foreign Buf, an mbuf whose Data
// was replaced by Go memory, and frames too large or empty.
func TestCopyPath(t *testing.T) {
	p := openPort(t, "net_ring7", PortOptions{})
	before := inUse(p)
	const tag = 0x1004

	p.Send([]*datapath.Packet{{Data: testFrame(0, 80, tag)}})
	rx := recvN(t, p, 1, time.Second)
	if len(rx) != 1 {
		t.Fatal("nothing received")
	}
	var foreign int
	replaced := rx[0]
	replaced.Data = testFrame(3, 90, tag) // Buf is an mbuf, Data is Go memory
	pkts := []*datapath.Packet{
		{Data: testFrame(1, 70, tag)},
		{Data: testFrame(2, 75, tag), Buf: unsafe.Pointer(&foreign)},
		&replaced,
		{Data: make([]byte, 3000)}, // larger than the 2048-byte data room
		{Data: nil},
		nil,
	}
	if sent := p.Send(pkts); sent != 3 {
		t.Errorf("Send: %d accepted, want 3", sent)
	}
	got := recvN(t, p, 3, time.Second)
	if len(got) != 3 {
		t.Fatalf("received %d of 3", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, pkts[i].Data) {
			t.Errorf("frame %d differs", i)
		}
		if got[i].Buf == rx[0].Buf {
			t.Errorf("frame %d reused the received mbuf; it should have been copied", i)
		}
	}
	if st := p.Stats(); st.TxDropped != 3 {
		t.Errorf("TxDropped = %d, want 3 (oversize, empty, nil)", st.TxDropped)
	}
	// A burst larger than the stash and MaxBurst.
	big := make([]datapath.Packet, 300)
	for i := range big {
		big[i].Data = testFrame(i, 60, tag)
	}
	sent := p.Send(ptrs(big))
	back := recvN(t, p, sent, time.Second)
	if sent < 256 || len(back) != sent {
		t.Errorf("300-packet Send: %d accepted, %d received", sent, len(back))
	}
	for i := range back {
		if !bytes.Equal(back[i].Data, big[i].Data) {
			t.Fatalf("big burst frame %d differs", i)
		}
	}
	p.Release(back)
	p.Release(got)
	p.Release(rx)
	p.Release([]datapath.Packet{{Data: []byte{1}, Buf: unsafe.Pointer(&foreign)}}) // ignored
	if after := inUse(p); after != before {
		t.Errorf("mbufs in use: %d before, %d after: leak", before, after)
	}
}

func TestOpenErrors(t *testing.T) {
	ok := openPort(t, "net_ring8", PortOptions{})
	for _, tc := range []struct{ devargs, want string }{
		{"net_af_packet9,iface=does-not-exist", `kernel interface "does-not-exist" does not exist`},
		{"net_af_xdp9,iface=does-not-exist", `kernel interface "does-not-exist" does not exist`},
		{"net_nosuchdriver0", "probe failed"},
		{"net_ring8", "already open"},
		{"0000:00:04.0", "--no-pci"},
		{"", "empty device name"},
	} {
		_, err := testEAL.OpenPort(tc.devargs, PortOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenPort(%q) = %v, want an error containing %q", tc.devargs, err, tc.want)
		} else {
			t.Logf("OpenPort(%q): %v", tc.devargs, err)
		}
	}
	// The working port is unaffected.
	const tag = 0x1005
	ok.Send([]*datapath.Packet{{Data: testFrame(0, 60, tag)}})
	got := recvN(t, ok, 1, time.Second)
	if len(got) != 1 {
		t.Fatal("net_ring8 stopped working after failed opens")
	}
	ok.Release(got)
	// Packets outlive their port's Close.
	ok.Send([]*datapath.Packet{{Data: testFrame(1, 60, tag)}})
	got = recvN(t, ok, 1, time.Second)
	if len(got) != 1 {
		t.Fatal("nothing received")
	}
	inflight := testEAL.MbufsInUse()
	ok.Close()
	if !bytes.Equal(got[0].Data, testFrame(1, 60, tag)) {
		t.Error("packet data changed by Close")
	}
	ok.Release(got)
	if after := testEAL.MbufsInUse(); after >= inflight {
		t.Errorf("Release after Close freed nothing: %d -> %d mbufs in use", inflight, after)
	}
	// A vdev name can be probed again after Close.
	again, err := testEAL.OpenPort("net_null9", PortOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if again.Recv(make([]datapath.Packet, 4)) != 0 || again.Send([]*datapath.Packet{{Data: make([]byte, 60)}}) != 0 {
		t.Error("Recv/Send on a closed port did something")
	}
	again, err = testEAL.OpenPort("net_null9", PortOptions{Name: "renamed", RxQueues: 2, TxQueues: 2})
	if err != nil {
		t.Fatalf("reopening net_null9: %v", err)
	}
	if again.Info().Name != "renamed" {
		t.Errorf("Name = %q", again.Info().Name)
	}
	if n := again.RecvQueue(1, make([]datapath.Packet, 8)); n != 8 {
		t.Errorf("RecvQueue(1) on net_null: %d, want 8", n)
	}
	again.Close()
}

// TestAffinity checks that no Go thread inherited the CPU pin rte_eal_init
// puts on the main lcore.
func TestAffinity(t *testing.T) {
	self, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skip(err)
	}
	want := ""
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		dir := "/proc/self/task/" + task.Name()
		comm, _ := os.ReadFile(dir + "/comm")
		status, _ := os.ReadFile(dir + "/status")
		var cpus string
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				cpus = strings.TrimSpace(v)
			}
		}
		if !bytes.Equal(comm, self) {
			t.Logf("DPDK thread %s: CPUs %s", strings.TrimSpace(string(comm)), cpus)
			continue
		}
		if want == "" {
			want = cpus
		}
		if cpus != want {
			t.Errorf("Go thread %s: CPUs %s, others %s", task.Name(), cpus, want)
		}
	}
}

// TestCloseWhilePolling closes a port from another goroutine while a PMD
// goroutine polls it.
func TestCloseWhilePolling(t *testing.T) {
	p, err := testEAL.OpenPort("net_null2", PortOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := testEAL.MbufsInUse()
	started := make(chan struct{})
	done := make(chan int)
	go func() {
		runtimeLock()
		defer runtimeUnlock()
		pkts := make([]datapath.Packet, datapath.BurstSize)
		out := ptrs(pkts)
		bursts := 0
		for {
			n := p.Recv(pkts)
			if bursts == 10 {
				close(started)
			}
			if n == 0 && bursts > 10 {
				break
			}
			p.Send(out[:n])
			p.Release(pkts[:n])
			bursts++
		}
		done <- bursts
	}()
	<-started
	time.Sleep(10 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("polled %d bursts before Close", <-done)
	// Packets received before Close can still be released.
	if p.Recv(make([]datapath.Packet, 1)) != 0 {
		t.Error("Recv after Close returned packets")
	}
	if after := testEAL.MbufsInUse(); after > before {
		t.Errorf("mbufs in use: %d before, %d after", before, after)
	}
}

// TestRegisterThread checks that a locked goroutine gets an lcore id and
// gives it back.
func TestRegisterThread(t *testing.T) {
	done := make(chan error)
	go func() {
		runtimeLock()
		defer runtimeUnlock()
		if id := lcoreID(); id != -1 {
			done <- fmt.Errorf("fresh thread has lcore %d", id)
			return
		}
		if err := RegisterThread(); err != nil {
			done <- err
			return
		}
		id := lcoreID()
		if err := RegisterThread(); err != nil || lcoreID() != id {
			done <- fmt.Errorf("second RegisterThread: %v, lcore %d -> %d", err, id, lcoreID())
			return
		}
		UnregisterThread()
		if lcoreID() != -1 {
			done <- fmt.Errorf("lcore %d after UnregisterThread", lcoreID())
			return
		}
		t.Logf("registered as lcore %d", id)
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
