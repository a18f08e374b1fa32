package ubpf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// ELFProgram describes one program of an ELF object.
type ELFProgram struct {
	Name    string // function name
	Section string // ELF section
	Insns   int    // instruction slots, bpf-to-bpf callees included
}

// ELFPrograms lists the programs of an ELF object in the order of their
// sections (and names within a section); the first is LoadELF's default.
func ELFPrograms(r io.ReaderAt) ([]ELFProgram, error) {
	spec, order, err := readSpec(r)
	if err != nil {
		return nil, err
	}
	var out []ELFProgram
	for _, ps := range order {
		out = append(out, ELFProgram{Name: ps.Name, Section: ps.SectionName, Insns: int(ps.Instructions.Size() / InsnSize)})
	}
	_ = spec
	return out, nil
}

// checkObject explains the commonest wrong inputs before the ELF parser
// reports them in its own terms.
func checkObject(r io.ReaderAt) error {
	var head [64]byte
	n, _ := r.ReadAt(head[:], 0)
	b := head[:n]
	const hint = "build filters with clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c f.c -o f.o"
	switch {
	case n == 0:
		return fmt.Errorf("ubpf: the file is empty, not an ELF object: %s", hint)
	case !bytes.HasPrefix(b, []byte("\x7fELF")):
		what := "binary data"
		if utf8.Valid(b) && bytes.IndexFunc(b, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }) < 0 {
			what = fmt.Sprintf("text (%q...)", strings.SplitN(string(b), "\n", 2)[0])
		}
		return fmt.Errorf("ubpf: not an ELF object: the file starts with %s; %s", what, hint)
	case n >= 20 && head[4] == 2 && head[5] == 1 && binary.LittleEndian.Uint16(head[18:]) != uint16(elf.EM_BPF):
		return fmt.Errorf("ubpf: an ELF object for %s, not for BPF: %s", elf.Machine(binary.LittleEndian.Uint16(head[18:])), hint)
	case n >= 20 && head[5] == 2:
		return fmt.Errorf("ubpf: a big-endian ELF object (clang -target bpfeb?); goko runs little-endian BPF: %s", hint)
	}
	return nil
}

func readSpec(r io.ReaderAt) (*ebpf.CollectionSpec, []*ebpf.ProgramSpec, error) {
	if err := checkObject(r); err != nil {
		return nil, nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("ubpf: reading ELF: %w", err)
	}
	secIdx := map[string]int{}
	if f, err := elf.NewFile(r); err == nil {
		for i, s := range f.Sections {
			secIdx[s.Name] = i
		}
	}
	var order []*ebpf.ProgramSpec
	for _, p := range spec.Programs {
		order = append(order, p)
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if secIdx[a.SectionName] != secIdx[b.SectionName] {
			return secIdx[a.SectionName] < secIdx[b.SectionName]
		}
		return a.Name < b.Name
	})
	if len(order) == 0 {
		return nil, nil, errors.New("ubpf: ELF object has no programs")
	}
	return spec, order, nil
}

// LoadELFBytes is LoadELF on an object in memory.
func LoadELFBytes(obj []byte, opts LoadOptions) (*Program, error) {
	return LoadELF(bytes.NewReader(obj), opts)
}

// SourceLine is the C source line an instruction was compiled from, as
// clang -g records it in the object's BTF line info.
type SourceLine struct {
	File string
	Line int
	Text string // the line, trimmed
}

func (l *SourceLine) String() string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d: %s", l.File, l.Line, l.Text)
}

// ELFCode is one program of an ELF object, linked: its instructions (map
// references rewritten to indices into Maps), the maps it uses, and the
// source line of each instruction slot (nil without -g).
type ELFCode struct {
	Name, Section string
	Kind          Kind // from the section: KindXDP for "xdp*", else KindFilter
	Insns         []RawInsn
	Lines         []*SourceLine
	// MapNames are the ELF names of the maps, in the order LDDW indexes
	// them; mapSpecs their declarations.
	MapNames []string
	mapSpecs []*ebpf.MapSpec
}

// ReadELF reads and links program (function or section name; empty: the
// first) of a clang-built object without creating its maps or verifying
// it: what tools need to show a program the verifier refuses.
func ReadELF(r io.ReaderAt, program string) (*ELFCode, error) {
	spec, order, err := readSpec(r)
	if err != nil {
		return nil, err
	}
	var ps *ebpf.ProgramSpec
	if program == "" {
		ps = order[0]
	} else {
		for _, p := range order {
			if p.Name == program {
				ps = p
				break
			}
		}
		if ps == nil {
			for _, p := range order {
				if p.SectionName == program {
					ps = p
					break
				}
			}
		}
		if ps == nil {
			var names []string
			for _, p := range order {
				names = append(names, p.Name+" ("+p.SectionName+")")
			}
			return nil, fmt.Errorf("ubpf: no program or section %q in ELF (have %s)", program, strings.Join(names, ", "))
		}
	}
	c := &ELFCode{Name: ps.Name, Section: ps.SectionName, Kind: KindFilter}
	if strings.HasPrefix(ps.SectionName, "xdp") {
		c.Kind = KindXDP
	}
	insns := make(asm.Instructions, len(ps.Instructions))
	copy(insns, ps.Instructions)
	mapIdx := map[string]int{}
	var line *SourceLine
	for i := range insns {
		ins := &insns[i]
		if src, ok := ins.Source().(*btf.Line); ok && src != nil && src.LineNumber() > 0 {
			line = &SourceLine{File: src.FileName(), Line: int(src.LineNumber()), Text: strings.TrimSpace(src.Line())}
		}
		for k := uint64(0); k < ins.Size()/InsnSize; k++ {
			c.Lines = append(c.Lines, line)
		}
		if btf.CORERelocationMetadata(ins) != nil {
			return nil, fmt.Errorf("ubpf: program %s: insn %d: CO-RE relocation %v is not supported", ps.Name, i, btf.CORERelocationMetadata(ins))
		}
		if ins.IsKfuncCall() {
			return nil, fmt.Errorf("ubpf: program %s: insn %d: call of kernel function %q is not supported", ps.Name, i, ins.Reference())
		}
		if !ins.IsLoadFromMap() {
			continue
		}
		name := ins.Reference()
		ms := spec.Maps[name]
		if ms == nil {
			return nil, fmt.Errorf("ubpf: program %s: insn %d: reference to unknown map or section %q", ps.Name, i, name)
		}
		idx, ok := mapIdx[name]
		if !ok {
			idx = len(c.MapNames)
			mapIdx[name] = idx
			c.MapNames = append(c.MapNames, name)
			c.mapSpecs = append(c.mapSpecs, ms)
		}
		if ins.Src == asm.PseudoMapValue {
			off := uint64(ins.Constant) >> 32
			ins.Src = PseudoMapIdxValue
			ins.Constant = int64(uint64(idx) | off<<32)
		} else {
			ins.Src = PseudoMapIdx
			ins.Constant = int64(idx)
		}
	}
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		return nil, fmt.Errorf("ubpf: program %s: linking: %w", ps.Name, err)
	}
	if c.Insns, err = DecodeInsns(buf.Bytes()); err != nil {
		return nil, err
	}
	if len(c.Lines) != len(c.Insns) {
		c.Lines = nil // should not happen; rather no lines than wrong ones
	}
	return c, nil
}

// Listing disassembles the program with its source lines (when the
// object has them) above the instructions they produced; the instruction
// at mark (if not negative) is flagged with note.
func (c *ELFCode) Listing(mark int, note string) string {
	var b strings.Builder
	var last *SourceLine
	for pc := 0; pc < len(c.Insns); pc++ {
		if pc > 0 && c.Insns[pc-1].isLDDW() {
			continue
		}
		if l := c.lineOf(pc); l != nil && (last == nil || l.File != last.File || l.Line != last.Line) {
			last = l
			fmt.Fprintf(&b, "; %s\n", last)
		}
		flag := "  "
		if pc == mark {
			flag = "=>"
		}
		fmt.Fprintf(&b, "%s %4d: %s", flag, pc, Disasm(c.Insns, pc))
		if pc == mark && note != "" {
			fmt.Fprintf(&b, "    <-- %s", note)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (c *ELFCode) lineOf(pc int) *SourceLine {
	if pc < len(c.Lines) {
		return c.Lines[pc]
	}
	return nil
}

// LoadELF loads a program from a clang-built ELF object (clang -O2 -g
// -target bpf): the program named opts.Program (function or section name;
// default the first), its bpf-to-bpf callees, the BTF-defined maps it
// uses and its global data (.rodata, .data, .bss as single-element array
// maps with their initial contents). The ELF is parsed by cilium/ebpf
// without any kernel call. Unsupported features (kfuncs, CO-RE relocations,
// kconfig externs, map-in-map) are reported naming the symbol or section.
// A verifier rejection names the C source line when the object has line
// info (-g).
func LoadELF(r io.ReaderAt, opts LoadOptions) (p *Program, err error) {
	defer func() {
		if e := recover(); e != nil {
			p, err = nil, fmt.Errorf("ubpf: internal error while loading the ELF object (please report it with the object): %v", e)
		}
	}()
	c, err := ReadELF(r, opts.Program)
	if err != nil {
		return nil, err
	}
	if opts.Kind == KindAuto {
		opts.Kind = c.Kind
	}
	if err := c.checkMapBudget(opts); err != nil {
		return nil, err
	}
	maps := make([]*Map, len(c.MapNames))
	for i, name := range c.MapNames {
		if maps[i], err = mapFromSpec(name, c.mapSpecs[i], opts.ReuseMaps); err != nil {
			return nil, fmt.Errorf("ubpf: program %s: %w", c.Name, err)
		}
	}
	return newProgram(c.Name, c.Section, c.Insns, maps, opts, c.Lines)
}

// specOf is goko's declaration of the ELF map name (without initial data).
func specOf(name string, ms *ebpf.MapSpec) MapSpec {
	s := MapSpec{Name: name, Type: MapType(ms.Type), KeySize: ms.KeySize, ValueSize: ms.ValueSize,
		MaxEntries: ms.MaxEntries, Flags: ms.Flags, Extra: ms.MapExtra}
	if s.Name == "" {
		s.Name = ms.Name
	}
	if strings.HasPrefix(name, ".rodata") {
		s.Flags |= FlagRdonlyProg
	}
	return s
}

// checkMapBudget refuses a load whose new maps would together take more
// than the load's memory limit, before any of them is allocated.
func (c *ELFCode) checkMapBudget(opts LoadOptions) error {
	limit := opts.MapMemoryLimit
	if limit == 0 {
		limit = DefaultMapMemoryLimit
	}
	var total uint64
	for i, name := range c.MapNames {
		s := specOf(name, c.mapSpecs[i])
		if old := opts.ReuseMaps[s.Name]; old != nil && old.spec.Compatible(&s) {
			continue
		}
		b := s.MemoryBytes()
		if b > MaxMapMemory {
			return fmt.Errorf("ubpf: program %s: map %s: %s of %d entries of key %d and value %d bytes needs %s, more than the %s one map may take: %w",
				c.Name, name, s.Type, s.MaxEntries, s.KeySize, s.ValueSize, formatBytes(b), formatBytes(MaxMapMemory), ErrMapTooLarge)
		}
		if total += b; total > limit {
			return fmt.Errorf("ubpf: program %s: its maps need %s with %s, more than the load's limit of %s: %w",
				c.Name, formatBytes(total), name, formatBytes(limit), ErrMapTooLarge)
		}
	}
	return nil
}

func mapFromSpec(name string, ms *ebpf.MapSpec, reuse map[string]*Map) (*Map, error) {
	switch {
	case strings.HasPrefix(name, ".kconfig"):
		return nil, fmt.Errorf("section %s (kconfig externs) is not supported", name)
	case strings.HasPrefix(name, ".ksyms"):
		return nil, fmt.Errorf("section %s (kernel symbols) is not supported", name)
	case ms.InnerMap != nil:
		return nil, fmt.Errorf("map %s: map-in-map is not supported", name)
	}
	s := specOf(name, ms)
	isData := strings.HasPrefix(name, ".rodata") || strings.HasPrefix(name, ".data") || strings.HasPrefix(name, ".bss")
	if isData && len(ms.Contents) == 1 {
		if b, ok := ms.Contents[0].Value.([]byte); ok {
			s.Data = b
		}
	}
	if _, known := mapTypeNames[s.Type]; !known {
		return nil, fmt.Errorf("map %s: map type %d (%s) is not supported", name, uint32(ms.Type), ms.Type)
	}
	if old := reuse[s.Name]; old != nil && old.spec.Compatible(&s) {
		return old, nil
	}
	m, err := NewMap(s)
	if err != nil {
		return nil, err
	}
	if !isData {
		for _, kv := range ms.Contents {
			k, ok1 := kv.Key.([]byte)
			v, ok2 := kv.Value.([]byte)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("map %s: static initial contents of type %T are not supported", name, kv.Value)
			}
			if err := m.Update(k, v, UpdateAny); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
