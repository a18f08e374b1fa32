// Package filtercmd implements goko's offline tools for BPF filter
// programs, as functions the ofctl command (and cmd/bpf-conformance) wire
// up. Each takes its arguments, standard input and outputs and returns the
// process exit code:
//
//	Run:         filter run PROG.o [--prog NAME|--section SEC] [--kind filter|xdp|raw]
//	                        [--vm jit|interp|auto] (--packet HEX ... | --pcap FILE)
//	Verify:      filter verify PROG.o [--prog NAME|--section SEC] [--kind K] [--vm E] [--disasm]
//	Conformance: [MEMORY] [--elf] [--vm E]   (the bpf_conformance plugin protocol)
package filtercmd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/goko-net/goko/ubpf"
)

type options struct {
	prog    string
	kind    ubpf.Kind
	engine  ubpf.Engine
	packets [][]byte
	pcap    string
	disasm  bool
	pos     []string
}

func parseArgs(args []string) (*options, error) {
	o := &options{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		needVal := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "--prog", "-p", "--section", "-s", "--program":
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			o.prog = v
		case "--packet":
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			b, err := parseHex(v)
			if err != nil {
				return nil, fmt.Errorf("--packet: %w", err)
			}
			o.packets = append(o.packets, b)
		case "--pcap":
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			o.pcap = v
		case "--kind":
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			switch v {
			case "filter":
				o.kind = ubpf.KindFilter
			case "xdp":
				o.kind = ubpf.KindXDP
			case "raw":
				o.kind = ubpf.KindRaw
			default:
				return nil, fmt.Errorf("--kind %q: want filter, xdp or raw", v)
			}
		case "--vm":
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			if o.engine, err = ubpf.ParseEngine(v); err != nil {
				return nil, fmt.Errorf("--vm: %w", err)
			}
		case "--disasm", "-d":
			o.disasm = true
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				return nil, fmt.Errorf("unknown option %s", a)
			}
			o.pos = append(o.pos, a)
		}
	}
	return o, nil
}

// parseHex reads bytes written as hex, with or without separators
// (whitespace, ':', '-', ',') and an optional 0x prefix.
func parseHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	var b strings.Builder
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == ':' || r == '-' || r == ','
	}) {
		f = strings.TrimPrefix(f, "0x")
		if len(f) == 1 {
			f = "0" + f
		}
		b.WriteString(f)
	}
	return hex.DecodeString(b.String())
}

func loadFile(path string, o *options, logger *slog.Logger) (*ubpf.Program, error) {
	obj, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Program: o.prog, Kind: o.kind, Logger: logger, Engine: o.engine})
}

func usageErr(stderr io.Writer, usage string, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
	}
	fmt.Fprintf(stderr, "usage: %s\n", usage)
	return 2
}

const runUsage = "filter run PROG.o [--prog NAME|--section SEC] [--kind filter|xdp|raw] [--vm jit|interp|auto] (--packet HEX ... | --pcap FILE)"

// Run loads PROG.o, runs it on each packet (from --packet or a pcap file),
// prints the verdict of each and the program's maps at the end. It
// returns 0 on success, 1 when loading or reading fails, 2 on bad usage.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		return usageErr(stderr, runUsage, err)
	}
	if len(o.pos) != 1 || (len(o.packets) == 0) == (o.pcap == "") {
		return usageErr(stderr, runUsage, errors.New("need one program and either --packet or --pcap"))
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := loadFile(o.pos[0], o, logger)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "program %s (section %s, %s, %d insns, %s)\n", p.Name(), p.Section(), p.Kind(), p.InsnCount(), p.Engine())
	th := ubpf.NewThread()
	defer th.Close()
	runOne := func(i int, pkt []byte) {
		ret, err := p.Run(th, pkt)
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "packet %d: len %d: error: %v (no match)\n", i, len(pkt), err)
		case p.IsMatch(ret):
			fmt.Fprintf(stdout, "packet %d: len %d: result %#x: match\n", i, len(pkt), ret)
		default:
			fmt.Fprintf(stdout, "packet %d: len %d: result %#x: no match\n", i, len(pkt), ret)
		}
	}
	n := 0
	if o.pcap != "" {
		f, err := os.Open(o.pcap)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 1
		}
		defer f.Close()
		r, err := NewPcapReader(bufio.NewReader(f))
		if err != nil {
			fmt.Fprintf(stderr, "error: %s: %v\n", o.pcap, err)
			return 1
		}
		for {
			pk, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				fmt.Fprintf(stderr, "error: %s: %v\n", o.pcap, err)
				return 1
			}
			n++
			runOne(n, pk.Data)
		}
	} else {
		for _, pk := range o.packets {
			n++
			runOne(n, pk)
		}
	}
	st := p.Stats()
	fmt.Fprintf(stdout, "%d packets, %d matched, %d errors\n", st.Runs, st.Matches, st.Errors)
	for _, m := range p.Maps() {
		dumpMap(stdout, m, th.Slot())
	}
	return 0
}

func dumpMap(w io.Writer, m *ubpf.Map, slot int) {
	info := m.Info()
	fmt.Fprintf(w, "map %s: %s key %d value %d max %d entries %d\n", info.Name, info.Type, info.KeySize, info.ValueSize, info.MaxEntries, info.Entries)
	switch info.Type {
	case ubpf.MapRingBuf:
		m.ReadRecords(func(rec []byte) { fmt.Fprintf(w, "  record %s\n", hex.EncodeToString(rec)) })
		return
	case ubpf.MapBloomFilter, ubpf.MapCountMin:
		return
	}
	type kv struct{ k, v []byte }
	var all []kv
	m.Iterate(func(k, v []byte) bool {
		all = append(all, kv{k, v})
		return true
	})
	sort.Slice(all, func(i, j int) bool { return bytes.Compare(all[i].k, all[j].k) < 0 })
	vs := int(info.ValueSize)
	shown := 0
	for _, e := range all {
		v := e.v
		if m.PerThread() {
			v = v[slot*vs : (slot+1)*vs]
		}
		if isArray(info.Type) && allZero(v) {
			continue // arrays: only elements that were set
		}
		if shown == 64 {
			fmt.Fprintf(w, "  ... %d more\n", len(all)-shown)
			break
		}
		shown++
		fmt.Fprintf(w, "  %s: %s%s\n", hex.EncodeToString(e.k), hex.EncodeToString(v), decimal(v))
	}
}

func isArray(t ubpf.MapType) bool { return t == ubpf.MapArray || t == ubpf.MapPerThreadArray }

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func decimal(v []byte) string {
	switch len(v) {
	case 4:
		return fmt.Sprintf(" (%d)", binary.LittleEndian.Uint32(v))
	case 8:
		return fmt.Sprintf(" (%d)", binary.LittleEndian.Uint64(v))
	}
	return ""
}

const verifyUsage = "filter verify PROG.o [--prog NAME|--section SEC] [--kind filter|xdp|raw] [--vm jit|interp|auto] [--disasm]"

// Verify loads PROG.o and reports whether it passes the verifier, with
// the verifier's statistics (and the disassembly with --disasm).
func Verify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil || len(o.pos) != 1 {
		return usageErr(stderr, verifyUsage, err)
	}
	obj, err := os.ReadFile(o.pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	progs, err := ubpf.ELFPrograms(bytes.NewReader(obj))
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	p, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Program: o.prog, Kind: o.kind, Engine: o.engine})
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		var ve *ubpf.VerifierError
		if errors.As(err, &ve) {
			if ve.Trace != "" {
				fmt.Fprintf(stderr, "\n%s", ve.Trace)
			}
			if o.disasm {
				if code, rerr := ubpf.ReadELF(bytes.NewReader(obj), o.prog); rerr == nil {
					fmt.Fprintf(stdout, "%s", code.Listing(ve.PC, ve.Reason))
				}
			} else {
				fmt.Fprintf(stderr, "\n(--disasm prints the whole program with its C lines and the rejected instruction marked)\n")
			}
		}
		return 1
	}
	vs := p.VerifierStats()
	fmt.Fprintf(stdout, "program %s (section %s, %s): %d insns, verified in %s: %d insns processed, %d states, %d pruned\n",
		p.Name(), p.Section(), p.Kind(), p.InsnCount(), vs.Duration.Round(time.Microsecond), vs.Processed, vs.States, vs.Pruned)
	if len(progs) > 1 {
		for _, e := range progs {
			fmt.Fprintf(stdout, "  also in object: %s (section %s, %d insns)\n", e.Name, e.Section, e.Insns)
		}
	}
	for _, m := range p.Maps() {
		fmt.Fprintf(stdout, "  map %s\n", m)
	}
	if o.disasm {
		if code, err := ubpf.ReadELF(bytes.NewReader(obj), o.prog); err == nil {
			fmt.Fprint(stdout, code.Listing(-1, ""))
		} else {
			fmt.Fprint(stdout, p.Disasm())
		}
	}
	return 0
}

// Conformance is the bpf_conformance plugin: the first argument (if it
// does not start with "--") is the input memory as hex bytes separated by
// whitespace; the program comes on stdin in the same hex text, as raw
// 8-byte little-endian instructions or, with --elf, as an ELF object. It
// runs the program (KindRaw, uBPF's test helpers) with r1 = the memory and
// r2 = its length and prints r0 in hex (no 0x, as uBPF's plugin does;
// the suite parses it with base 16). On failure it exits 1 with the reason
// on stderr. --vm jit|interp|auto chooses the engine.
func Conformance(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var memText string
	elf := false
	var engine ubpf.Engine
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "":
		case a == "--elf":
			elf = true
		case a == "--vm" && i+1 < len(args), strings.HasPrefix(a, "--vm="):
			v, ok := strings.CutPrefix(a, "--vm=")
			if !ok {
				i++
				v = args[i]
			}
			var err error
			if engine, err = ubpf.ParseEngine(v); err != nil {
				fmt.Fprintf(stderr, "Invalid arguments: %v\n", err)
				return 1
			}
		case i == 0 && !strings.HasPrefix(a, "--"):
			memText = a
		default:
			fmt.Fprintf(stderr, "Invalid arguments: %s\nusage: bpf-conformance [MEMORY] [--elf] [--vm jit|interp|auto] < PROGRAM\n", a)
			return 1
		}
	}
	mem, err := parseHex(memText)
	if err != nil {
		fmt.Fprintf(stderr, "invalid memory: %v\n", err)
		return 1
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "reading program: %v\n", err)
		return 1
	}
	code, err := parseHex(string(in))
	if err != nil {
		fmt.Fprintf(stderr, "invalid program: %v\n", err)
		return 1
	}
	opts := ubpf.LoadOptions{Kind: ubpf.KindRaw, Helpers: ubpf.HelpersConformance, Name: "conformance",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Engine: engine}
	var p *ubpf.Program
	if elf {
		p, err = ubpf.LoadELFBytes(code, opts)
	} else {
		p, err = ubpf.Load(code, opts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "Failed to load code: %v\n", err)
		return 1
	}
	th := ubpf.NewThread()
	defer th.Close()
	ret, err := p.Run(th, mem)
	if err != nil {
		fmt.Fprintf(stderr, "Failed to execute program: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%x\n", ret)
	return 0
}
