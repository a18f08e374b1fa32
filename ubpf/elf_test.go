package ubpf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// compileC builds testdata/name.c with clang, or skips the test.
func compileC(t testing.TB, name string) []byte {
	t.Helper()
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf headers (libbpf-dev) not installed")
	}
	out := filepath.Join(t.TempDir(), name+".o")
	cmd := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
		"-c", filepath.Join("testdata", name+".c"), "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	obj, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// udpPacket builds an Ethernet/IPv4/UDP packet.
func udpPacket(src [4]byte, dport uint16, payload []byte) []byte {
	p := make([]byte, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(p[12:], 0x0800)
	ip := p[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:], src[:])
	copy(ip[16:], []byte{10, 0, 0, 1})
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 1234)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(udp[8:], payload)
	return p
}

func TestELFFilter(t *testing.T) {
	obj := compileC(t, "filter")
	progs, err := ubpf.ELFPrograms(bytesReaderAt(obj))
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) != 1 || progs[0].Name != "dns_filter" || progs[0].Section != "filter" {
		t.Fatalf("programs: %+v", progs)
	}
	p, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind() != ubpf.KindFilter {
		t.Fatalf("kind %v", p.Kind())
	}
	th := ubpf.NewThread()
	defer th.Close()
	dns := udpPacket([4]byte{192, 168, 1, 7}, 53, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	other := udpPacket([4]byte{192, 168, 1, 7}, 80, nil)
	for i := 0; i < 3; i++ {
		if !p.Match(th, dns) {
			t.Fatal("dns packet did not match")
		}
	}
	if p.Match(th, other) {
		t.Fatal("port 80 matched")
	}
	if p.Match(th, dns[:20]) {
		t.Fatal("truncated packet matched")
	}
	per := p.Map("per_src")
	v, ok := per.Lookup([]byte{192, 168, 1, 7})
	if !ok || binary.LittleEndian.Uint64(v) != 3 {
		t.Fatalf("per_src = %v %v", v, ok)
	}
	stats := p.Map("stats")
	v, _ = stats.Lookup([]byte{0, 0, 0, 0})
	if binary.LittleEndian.Uint64(v) != 5 {
		t.Fatalf("stats[0] = %d, want 5", binary.LittleEndian.Uint64(v))
	}
	v, _ = stats.Lookup([]byte{1, 0, 0, 0})
	if binary.LittleEndian.Uint64(v) != 3*36 {
		t.Fatalf("stats[1] = %d, want %d", binary.LittleEndian.Uint64(v), 3*36)
	}
	bss := p.Map(".bss")
	v, _ = bss.Lookup([]byte{0, 0, 0, 0})
	if binary.LittleEndian.Uint64(v) != 5 {
		t.Fatalf(".bss seen = %v", v)
	}
	// lower the threshold in .data: the 4th packet no longer matches
	data := p.Map(".data")
	if err := data.Update([]byte{0, 0, 0, 0}, binary.LittleEndian.AppendUint64(nil, 2), ubpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if p.Match(th, dns) {
		t.Fatal("matched above threshold")
	}
	st := p.Stats()
	if st.Runs != 6 || st.Matches != 3 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
	// reload, reusing the maps
	p2, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Logger: quiet, ReuseMaps: map[string]*ubpf.Map{"per_src": per}})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Map("per_src") != per || p2.Map("stats") == stats {
		t.Fatal("map reuse")
	}
}

func TestELFXDP(t *testing.T) {
	obj := compileC(t, "xdp")
	p, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Program: "xdp", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind() != ubpf.KindXDP {
		t.Fatalf("kind %v", p.Kind())
	}
	allow := p.Map("allow")
	key := []byte{24, 0, 0, 0, 10, 1, 2, 0}
	if err := allow.Update(key, []byte{1, 0, 0, 0}, ubpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	th := ubpf.NewThread()
	defer th.Close()
	in := udpPacket([4]byte{10, 1, 2, 3}, 9, nil)
	out := udpPacket([4]byte{10, 1, 3, 3}, 9, nil)
	if r, err := p.Run(th, in); err != nil || r != ubpf.XDPPass {
		t.Fatalf("allowed source: %d %v", r, err)
	}
	if r, err := p.Run(th, out); err != nil || r != ubpf.XDPDrop {
		t.Fatalf("other source: %d %v", r, err)
	}
	if r, _ := p.Run(th, in[:20]); r != ubpf.XDPDrop {
		t.Fatalf("short packet: %d", r)
	}
	var recs [][]byte
	n, err := p.Map("events").ReadRecords(func(b []byte) { recs = append(recs, b) })
	if err != nil || n != 1 || len(recs[0]) != 8 || binary.LittleEndian.Uint32(recs[0][4:]) != uint32(len(out)) {
		t.Fatalf("events: %d %v %x", n, err, recs)
	}
	est, _ := p.Map("sketch").Lookup([]byte{10, 1, 2, 3})
	if binary.LittleEndian.Uint64(est) != 1 {
		t.Fatalf("sketch estimate %x", est)
	}
	if _, ok := p.Map("seen_src").Lookup([]byte{10, 1, 3, 3}); !ok {
		t.Fatal("bloom filter lost an element")
	}
	cnt, _ := p.Map("counters").Lookup([]byte{0, 0, 0, 0})
	if len(cnt) != 8*ubpf.ThreadSlots || binary.LittleEndian.Uint64(cnt[8*th.Slot():]) != 1 {
		t.Fatalf("per-thread counter: slot %d %x", th.Slot(), cnt[:16])
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestNotAnELFObject(t *testing.T) {
	dir := t.TempDir()
	x86, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "the file is empty"},
		{"C source", []byte("root@host:~# cat f.c\n#include <linux/bpf.h>\n"), `not an ELF object: the file starts with text ("root@host:~# cat f.c"...)`},
		{"binary", []byte{0, 1, 2, 3, 4, 5}, "not an ELF object: the file starts with binary data"},
		{"x86-64 executable", x86[:4096], "an ELF object for EM_X86_64, not for BPF"},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ubpf.LoadELF(f, ubpf.LoadOptions{})
		f.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "clang -O2 -g -target bpf") {
			t.Errorf("%s: got %v, want it to say %q and how to build", tc.name, err, tc.want)
		}
	}
}

// A rejection of a -g object names the C line, and carries the path that
// led to it.
func TestVerifierErrorNamesSourceLine(t *testing.T) {
	obj := compileC(t, "reject_oob")
	_, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Logger: quiet})
	var ve *ubpf.VerifierError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a verifier error", err)
	}
	if ve.Source == nil || !strings.HasSuffix(ve.Source.File, "reject_oob.c") || ve.Source.Line != 11 || !strings.Contains(ve.Source.Text, "pkt[15]") {
		t.Errorf("source %v, want reject_oob.c:11 with pkt[15]", ve.Source)
	}
	if !strings.Contains(err.Error(), "reject_oob.c:11: return pkt[15] == 0x45;") {
		t.Errorf("message %q does not quote the line", err)
	}
	if !strings.Contains(ve.Trace, "R3=14") || !strings.Contains(ve.Trace, fmt.Sprintf("%4d: ", ve.PC)+ve.Insn+"    ; R1=pkt") {
		t.Errorf("trace does not show the path and the failing insn's registers:\n%s", ve.Trace)
	}
	code, err := ubpf.ReadELF(bytes.NewReader(obj), "")
	if err != nil {
		t.Fatal(err)
	}
	l := code.Listing(ve.PC, ve.Reason)
	if !strings.Contains(l, "; ") || !strings.Contains(l, "=>") || !strings.Contains(l, "<-- invalid access to packet") {
		t.Errorf("listing lacks source lines or the mark:\n%s", l)
	}
	t.Logf("%v\n%s\n%s", err, ve.Trace, l)
}
