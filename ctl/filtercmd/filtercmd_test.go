package filtercmd

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/ubpf/asm"
)

func hexText(b []byte) string {
	var s []string
	for _, x := range b {
		s = append(s, hex.EncodeToString([]byte{x}))
	}
	return strings.Join(s, "  ")
}

func TestConformance(t *testing.T) {
	cases := []struct {
		asm, mem, out string
		rc            int
		args          []string
	}{
		{asm: "mov %r0, 0x2a\nexit", out: "2a\n"},
		{asm: "ldxw %r0, [%r1]\nexit", mem: "01  02  03  04  ", out: "4030201\n"},
		{asm: "mov %r0, %r2\nexit", mem: "aa bb cc", out: "3\n"},
		{asm: "lddw %r0, 0xffffffffffffffff\nexit", out: "ffffffffffffffff\n"},
		{asm: "ldxw %r0, [%r1+8]\nexit", mem: "01 02", rc: 1},
		{asm: "mov %r0, %r7\nexit", rc: 1},
		{asm: "mov %r0, 1\nexit", args: []string{"", ""}, out: "1\n"},
		{asm: "mov %r0, 1\nexit", args: []string{"--bogus"}, rc: 1},
		{asm: "ldxw %r0, [%r1]\nexit", args: []string{"01 02 03 04", "--vm", "interp"}, out: "4030201\n"},
		{asm: "ldxw %r0, [%r1]\nexit", args: []string{"01 02 03 04", "--vm=jit"}, out: "4030201\n"},
		{asm: "ldxw %r0, [%r1+2]\nexit", args: []string{"01 02 03 04", "--vm=jit"}, rc: 1},
		{asm: "mov %r0, 1\nexit", args: []string{"", "--vm", "fast"}, rc: 1},
	}
	for _, c := range cases {
		code, err := asm.Assemble(c.asm)
		if err != nil {
			t.Fatal(err)
		}
		args := c.args
		if args == nil {
			args = []string{c.mem}
		}
		var out, errb bytes.Buffer
		rc := Conformance(args, strings.NewReader(hexText(code)+"\n"), &out, &errb)
		if rc != c.rc || out.String() != c.out {
			t.Errorf("%q: rc %d out %q (stderr %q), want rc %d out %q", c.asm, rc, out.String(), errb.String(), c.rc, c.out)
		}
		if rc != 0 && errb.Len() == 0 {
			t.Errorf("%q: failure without a reason on stderr", c.asm)
		}
	}
}

func TestPcapRoundTrip(t *testing.T) {
	pkts := []Packet{{Time: time.Unix(10, 5000), Data: []byte{1, 2, 3}}, {Time: time.Unix(11, 0), Data: make([]byte, 60)}}
	var buf bytes.Buffer
	if err := WritePcap(&buf, pkts); err != nil {
		t.Fatal(err)
	}
	r, err := NewPcapReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		p, err := r.Next()
		if err != nil || !bytes.Equal(p.Data, pkts[i].Data) || !p.Time.Equal(pkts[i].Time) {
			t.Fatalf("packet %d: %v %v", i, p, err)
		}
	}
	if _, err := r.Next(); err == nil {
		t.Fatal("expected EOF")
	}
	// big-endian nanosecond file
	be := make([]byte, 24+16+2)
	binary.BigEndian.PutUint32(be, 0xa1b23c4d)
	binary.BigEndian.PutUint32(be[20:], 1)
	binary.BigEndian.PutUint32(be[24:], 7)
	binary.BigEndian.PutUint32(be[28:], 9)
	binary.BigEndian.PutUint32(be[32:], 2)
	binary.BigEndian.PutUint32(be[36:], 2)
	r, err = NewPcapReader(bytes.NewReader(be))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Next()
	if err != nil || p.Time.UnixNano() != 7e9+9 || len(p.Data) != 2 {
		t.Fatalf("be/ns: %+v %v", p, err)
	}
	if _, err := NewPcapReader(bytes.NewReader([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})); err != ErrPcapNG {
		t.Fatalf("pcapng: %v", err)
	}
}

func udp(dport uint16) []byte {
	p := make([]byte, 14+20+8+8)
	binary.BigEndian.PutUint16(p[12:], 0x0800)
	p[14], p[23] = 0x45, 17
	copy(p[26:], []byte{10, 0, 0, 9})
	binary.BigEndian.PutUint16(p[36:], dport)
	return p
}

func TestRunAndVerify(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang not installed")
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf-dev not installed")
	}
	dir := t.TempDir()
	obj := filepath.Join(dir, "filter.o")
	cmd := exec.Command("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c",
		"../../ubpf/testdata/filter.c", "-o", obj)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	var out, errb bytes.Buffer
	rc := Run([]string{obj, "--packet", hex.EncodeToString(udp(53)), "--packet", hex.EncodeToString(udp(80))}, nil, &out, &errb)
	if rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	s := out.String()
	for _, want := range []string{"packet 1: len 50: result 0x1: match", "packet 2: len 50: result 0x0: no match", "map per_src", "0a000009: 0100000000000000 (1)"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// each engine, chosen with --vm, gives the same verdicts
	for _, vm := range []string{"interp", "jit"} {
		var out, errb bytes.Buffer
		rc := Run([]string{obj, "--vm", vm, "--packet", hex.EncodeToString(udp(53)), "--packet", hex.EncodeToString(udp(80))}, nil, &out, &errb)
		if rc != 0 {
			if vm == "jit" && strings.Contains(errb.String(), "no JIT") {
				continue
			}
			t.Fatalf("--vm %s: rc %d: %s", vm, rc, errb.String())
		}
		for _, want := range []string{", " + vm + ")", "packet 1: len 50: result 0x1: match", "packet 2: len 50: result 0x0: no match"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("--vm %s: output lacks %q:\n%s", vm, want, out.String())
			}
		}
	}
	// the same through a pcap file
	pc := filepath.Join(dir, "in.pcap")
	var pb bytes.Buffer
	WritePcap(&pb, []Packet{{Data: udp(53)}, {Data: udp(53)}, {Data: udp(1)}})
	os.WriteFile(pc, pb.Bytes(), 0o644)
	out.Reset()
	if rc := Run([]string{obj, "--pcap", pc, "--prog", "dns_filter"}, nil, &out, &errb); rc != 0 {
		t.Fatalf("pcap rc %d: %s", rc, errb.String())
	}
	if !strings.Contains(out.String(), "3 packets, 2 matched, 0 errors") {
		t.Errorf("pcap output:\n%s", out.String())
	}
	out.Reset()
	if rc := Verify([]string{obj, "--disasm"}, nil, &out, &errb); rc != 0 || !strings.Contains(out.String(), "verified") {
		t.Fatalf("verify rc %d: %s %s", rc, out.String(), errb.String())
	}
	if rc := Run([]string{obj}, nil, &out, &errb); rc != 2 {
		t.Fatalf("usage rc %d", rc)
	}
	if rc := Run([]string{obj, "--prog", "nope", "--packet", "00"}, nil, &out, &errb); rc != 1 {
		t.Fatalf("unknown prog rc %d", rc)
	}
}
