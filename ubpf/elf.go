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

func readSpec(r io.ReaderAt) (*ebpf.CollectionSpec, []*ebpf.ProgramSpec, error) {
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

// LoadELF loads a program from a clang-built ELF object (clang -O2 -g
// -target bpf): the program named opts.Program (function or section name;
// default the first), its bpf-to-bpf callees, the BTF-defined maps it
// uses and its global data (.rodata, .data, .bss as single-element array
// maps with their initial contents). The ELF is parsed by cilium/ebpf
// without any kernel call. Unsupported features (kfuncs, CO-RE relocations,
// kconfig externs, map-in-map) are reported naming the symbol or section.
func LoadELF(r io.ReaderAt, opts LoadOptions) (p *Program, err error) {
	defer func() {
		if e := recover(); e != nil {
			p, err = nil, fmt.Errorf("ubpf: internal error while loading the ELF object (please report it with the object): %v", e)
		}
	}()
	spec, order, err := readSpec(r)
	if err != nil {
		return nil, err
	}
	var ps *ebpf.ProgramSpec
	if opts.Program == "" {
		ps = order[0]
	} else {
		for _, p := range order {
			if p.Name == opts.Program {
				ps = p
				break
			}
		}
		if ps == nil {
			for _, p := range order {
				if p.SectionName == opts.Program {
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
			return nil, fmt.Errorf("ubpf: no program or section %q in ELF (have %s)", opts.Program, strings.Join(names, ", "))
		}
	}
	if opts.Kind == KindAuto {
		opts.Kind = KindFilter
		if strings.HasPrefix(ps.SectionName, "xdp") {
			opts.Kind = KindXDP
		}
	}
	insns := make(asm.Instructions, len(ps.Instructions))
	copy(insns, ps.Instructions)

	if err := checkMapBudget(ps, spec, insns, opts); err != nil {
		return nil, err
	}
	var maps []*Map
	mapIdx := map[string]int{}
	for i := range insns {
		ins := &insns[i]
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
			m, err := mapFromSpec(name, ms, opts.ReuseMaps)
			if err != nil {
				return nil, fmt.Errorf("program %s: %w", ps.Name, err)
			}
			idx = len(maps)
			mapIdx[name] = idx
			maps = append(maps, m)
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
		return nil, fmt.Errorf("program %s: linking: %w", ps.Name, err)
	}
	raw, err := DecodeInsns(buf.Bytes())
	if err != nil {
		return nil, err
	}
	return newProgram(ps.Name, ps.SectionName, raw, maps, opts)
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
func checkMapBudget(ps *ebpf.ProgramSpec, spec *ebpf.CollectionSpec, insns asm.Instructions, opts LoadOptions) error {
	limit := opts.MapMemoryLimit
	if limit == 0 {
		limit = DefaultMapMemoryLimit
	}
	var total uint64
	seen := map[string]bool{}
	for i := range insns {
		if !insns[i].IsLoadFromMap() {
			continue
		}
		name := insns[i].Reference()
		ms := spec.Maps[name]
		if ms == nil || seen[name] {
			continue
		}
		seen[name] = true
		s := specOf(name, ms)
		if old := opts.ReuseMaps[s.Name]; old != nil && old.spec.Compatible(&s) {
			continue
		}
		b := s.MemoryBytes()
		if b > MaxMapMemory {
			return fmt.Errorf("ubpf: program %s: map %s: %s of %d entries of key %d and value %d bytes needs %s, more than the %s one map may take: %w",
				ps.Name, name, s.Type, s.MaxEntries, s.KeySize, s.ValueSize, formatBytes(b), formatBytes(MaxMapMemory), ErrMapTooLarge)
		}
		if total += b; total > limit {
			return fmt.Errorf("ubpf: program %s: its maps need %s with %s, more than the load's limit of %s: %w",
				ps.Name, formatBytes(total), name, formatBytes(limit), ErrMapTooLarge)
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
