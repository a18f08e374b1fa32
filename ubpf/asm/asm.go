// Package asm assembles eBPF programs written in the uBPF/bpf_conformance
// assembly syntax into bytecode, for tests and tools:
//
//	mov %r0, 1          # comments start with # or ;
//	ldxw %r1, [%r1+4]
//	jeq %r1, 0x2a, done # jump to a label or +/-offset
//	add32 %r0, %r1
//	done:
//	exit
//
// Mnemonics: the ALU operations add sub mul div sdiv or and lsh rsh neg mod
// smod xor mov arsh (suffix 32 for the 32-bit class), movsx8 movsx16
// movsx32 movsx832 movsx1632, le16/32/64, be16/32/64, swap16/32/64; loads
// ldxb ldxh ldxw ldxdw ldxsb ldxsh ldxsw; stores stb sth stw stdw (immediate)
// and stxb stxh stxw stxdw; lddw; legacy ldabsb/h/w and ldindb/h/w; jumps
// ja jeq jne jgt jge jlt jle jsgt jsge jslt jsle jset (suffix 32), jal
// (ja with a 32-bit offset); call N | call helper N | call local LABEL |
// call %rN (callx); exit; atomics atomic_add atomic_or atomic_and
// atomic_xor, their atomic_fetch_ forms, atomic_xchg and atomic_cmpxchg
// (suffix 32), written "atomic_add [%r1+8], %r2"; lddw may also take
// map(N) or map_value(N)+OFF for a map reference, and func(LABEL) for the
// address of a function (a bpf_loop callback).
package asm

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

type ins struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
	label    string // jump/call target label
	labelImm bool   // label goes into imm (call local, jal)
	wide     bool
	hi       int32
	line     int
}

var aluOps = map[string]uint8{
	"add": 0x00, "sub": 0x10, "mul": 0x20, "div": 0x30, "sdiv": 0x30, "or": 0x40, "and": 0x50,
	"lsh": 0x60, "rsh": 0x70, "neg": 0x80, "mod": 0x90, "smod": 0x90, "xor": 0xa0, "mov": 0xb0, "arsh": 0xc0,
}

var jmpOps = map[string]uint8{
	"jeq": 0x10, "jgt": 0x20, "jge": 0x30, "jset": 0x40, "jne": 0x50, "jsgt": 0x60, "jsge": 0x70,
	"jlt": 0xa0, "jle": 0xb0, "jslt": 0xc0, "jsle": 0xd0,
}

var sizes = map[string]uint8{"w": 0x00, "h": 0x08, "b": 0x10, "dw": 0x18}

var atomics = map[string]int32{"add": 0x00, "or": 0x40, "and": 0x50, "xor": 0xa0}

// Assemble translates src into little-endian bytecode.
func Assemble(src string) ([]byte, error) {
	var out []ins
	labels := map[string]int{}
	pos := 0
	for n, line := range strings.Split(src, "\n") {
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasSuffix(line, ":") {
			labels[strings.TrimSuffix(line, ":")] = pos
			continue
		}
		in, err := parse(line)
		if err != nil {
			return nil, fmt.Errorf("asm: line %d: %q: %w", n+1, line, err)
		}
		in.line = n + 1
		out = append(out, in)
		pos++
		if in.wide {
			pos++
		}
	}
	var code []byte
	pos = 0
	for _, in := range out {
		if in.label != "" {
			t, ok := labels[in.label]
			if !ok {
				return nil, fmt.Errorf("asm: line %d: unknown label %q", in.line, in.label)
			}
			if in.labelImm {
				in.imm = int32(t - pos - 1)
			} else {
				in.off = int16(t - pos - 1)
			}
		}
		var b [8]byte
		b[0] = in.op
		b[1] = in.dst | in.src<<4
		binary.LittleEndian.PutUint16(b[2:], uint16(in.off))
		binary.LittleEndian.PutUint32(b[4:], uint32(in.imm))
		code = append(code, b[:]...)
		pos++
		if in.wide {
			var b2 [8]byte
			binary.LittleEndian.PutUint32(b2[4:], uint32(in.hi))
			code = append(code, b2[:]...)
			pos++
		}
	}
	return code, nil
}

func splitOperands(s string) []string {
	var out []string
	depth := 0
	cur := ""
	for _, c := range s {
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		}
		if c == ',' && depth == 0 {
			out = append(out, strings.TrimSpace(cur))
			cur = ""
			continue
		}
		cur += string(c)
	}
	if strings.TrimSpace(cur) != "" {
		out = append(out, strings.TrimSpace(cur))
	}
	return out
}

func reg(s string) (uint8, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "%")
	if !strings.HasPrefix(s, "r") {
		return 0, fmt.Errorf("bad register %q", s)
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 0 || n > 15 {
		return 0, fmt.Errorf("bad register %q", s)
	}
	return uint8(n), nil
}

func isReg(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "%")
	if len(s) < 2 || s[0] != 'r' {
		return false
	}
	_, err := strconv.Atoi(s[1:])
	return err == nil
}

func num(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

// mem parses [%rN+off].
func mem(s string) (uint8, int16, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return 0, 0, fmt.Errorf("bad memory operand %q", s)
	}
	s = s[1 : len(s)-1]
	i := strings.IndexAny(s, "+-")
	if i < 0 {
		r, err := reg(s)
		return r, 0, err
	}
	r, err := reg(s[:i])
	if err != nil {
		return 0, 0, err
	}
	o, err := num(s[i:])
	if err != nil {
		return 0, 0, err
	}
	return r, int16(o), nil
}

func target(in *ins, s string) error {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		o, err := num(s)
		if err != nil {
			return err
		}
		if in.labelImm {
			in.imm = int32(o)
		} else {
			in.off = int16(o)
		}
		return nil
	}
	in.label = s
	return nil
}

func parse(line string) (ins, error) {
	var in ins
	mn, rest, _ := strings.Cut(line, " ")
	mn = strings.ToLower(mn)
	ops := splitOperands(rest)
	need := func(n int) error {
		if len(ops) != n {
			return fmt.Errorf("%s takes %d operands", mn, n)
		}
		return nil
	}
	var err error
	switch {
	case mn == "exit":
		in.op = 0x95
		return in, nil
	case mn == "call":
		in.op = 0x85
		if len(ops) == 1 && isReg(ops[0]) {
			in.op = 0x8d
			in.dst, err = reg(ops[0])
			return in, err
		}
		if len(ops) == 1 {
			f := strings.Fields(ops[0])
			if len(f) == 2 {
				ops = f
			}
		}
		if len(ops) == 2 && ops[0] == "local" {
			in.src, in.labelImm = 1, true
			return in, target(&in, ops[1])
		}
		if len(ops) == 2 && ops[0] == "helper" {
			ops = ops[1:]
		}
		if err := need(1); err != nil {
			return in, err
		}
		v, err := num(ops[0])
		in.imm = int32(v)
		return in, err
	case mn == "ja":
		in.op = 0x05
		if err := need(1); err != nil {
			return in, err
		}
		return in, target(&in, ops[0])
	case mn == "jal":
		in.op = 0x06
		in.labelImm = true
		if err := need(1); err != nil {
			return in, err
		}
		return in, target(&in, ops[0])
	case mn == "lddw":
		if err := need(2); err != nil {
			return in, err
		}
		in.op, in.wide = 0x18, true
		if in.dst, err = reg(ops[0]); err != nil {
			return in, err
		}
		a := ops[1]
		switch {
		case strings.HasPrefix(a, "func(") && strings.HasSuffix(a, ")"):
			// the address of the function at a label (lddw src 4), as
			// bpf_loop's callback
			in.src, in.labelImm, in.label = 4, true, strings.TrimSuffix(strings.TrimPrefix(a, "func("), ")")
		case strings.HasPrefix(a, "map_value("):
			inner, off, _ := strings.Cut(strings.TrimPrefix(a, "map_value("), ")")
			m, err := num(inner)
			if err != nil {
				return in, err
			}
			o := int64(0)
			if off != "" {
				if o, err = num(off); err != nil {
					return in, err
				}
			}
			in.src, in.imm, in.hi = 6, int32(m), int32(o)
		case strings.HasPrefix(a, "map("):
			m, err := num(strings.TrimSuffix(strings.TrimPrefix(a, "map("), ")"))
			if err != nil {
				return in, err
			}
			in.src, in.imm = 5, int32(m)
		default:
			v, err := num(a)
			if err != nil {
				return in, err
			}
			in.imm, in.hi = int32(uint32(v)), int32(uint32(uint64(v)>>32))
		}
		return in, nil
	case strings.HasPrefix(mn, "ldabs") || strings.HasPrefix(mn, "ldind"):
		sz, ok := sizes[mn[5:]]
		if !ok || sz == 0x18 {
			return in, fmt.Errorf("bad size in %s", mn)
		}
		if mn[2:5] == "abs" {
			in.op = 0x20 | sz
			if err := need(1); err != nil {
				return in, err
			}
			v, err := num(ops[0])
			in.imm = int32(v)
			return in, err
		}
		in.op = 0x40 | sz
		if err := need(2); err != nil {
			return in, err
		}
		if in.src, err = reg(ops[0]); err != nil {
			return in, err
		}
		v, err := num(ops[1])
		in.imm = int32(v)
		return in, err
	case strings.HasPrefix(mn, "ldx"):
		name := mn[3:]
		mode := uint8(0x60)
		if strings.HasPrefix(name, "s") && name != "" {
			mode, name = 0x80, name[1:]
		}
		sz, ok := sizes[name]
		if !ok {
			return in, fmt.Errorf("unknown mnemonic %s", mn)
		}
		if err := need(2); err != nil {
			return in, err
		}
		in.op = mode | sz | 0x01
		if in.dst, err = reg(ops[0]); err != nil {
			return in, err
		}
		in.src, in.off, err = mem(ops[1])
		return in, err
	case strings.HasPrefix(mn, "stx"):
		sz, ok := sizes[mn[3:]]
		if !ok {
			return in, fmt.Errorf("unknown mnemonic %s", mn)
		}
		if err := need(2); err != nil {
			return in, err
		}
		in.op = 0x60 | sz | 0x03
		if in.dst, in.off, err = mem(ops[0]); err != nil {
			return in, err
		}
		in.src, err = reg(ops[1])
		return in, err
	case isStore(mn):
		sz := sizes[mn[2:]]
		if err := need(2); err != nil {
			return in, err
		}
		in.op = 0x60 | sz | 0x02
		if in.dst, in.off, err = mem(ops[0]); err != nil {
			return in, err
		}
		v, err := num(ops[1])
		in.imm = int32(v)
		return in, err
	case strings.HasPrefix(mn, "atomic_"):
		name := strings.TrimPrefix(mn, "atomic_")
		in.op = 0xdb
		if strings.HasSuffix(name, "32") {
			in.op, name = 0xc3, strings.TrimSuffix(name, "32")
		}
		switch {
		case name == "xchg":
			in.imm = 0xe1
		case name == "cmpxchg":
			in.imm = 0xf1
		case strings.HasPrefix(name, "fetch_"):
			v, ok := atomics[strings.TrimPrefix(name, "fetch_")]
			if !ok {
				return in, fmt.Errorf("unknown atomic %s", mn)
			}
			in.imm = v | 1
		default:
			v, ok := atomics[name]
			if !ok {
				return in, fmt.Errorf("unknown atomic %s", mn)
			}
			in.imm = v
		}
		if err := need(2); err != nil {
			return in, err
		}
		if in.dst, in.off, err = mem(ops[0]); err != nil {
			return in, err
		}
		in.src, err = reg(ops[1])
		return in, err
	case strings.HasPrefix(mn, "le") || strings.HasPrefix(mn, "be") || strings.HasPrefix(mn, "swap"):
		w := strings.TrimLeft(mn, "lebswap")
		v, err := strconv.Atoi(w)
		if err != nil {
			return in, fmt.Errorf("unknown mnemonic %s", mn)
		}
		in.imm = int32(v)
		switch {
		case strings.HasPrefix(mn, "le"):
			in.op = 0xd4
		case strings.HasPrefix(mn, "be"):
			in.op = 0xdc
		default:
			in.op = 0xd7
		}
		if err := need(1); err != nil {
			return in, err
		}
		in.dst, err = reg(ops[0])
		return in, err
	case strings.HasPrefix(mn, "movsx"):
		cls := uint8(0x07)
		switch mn {
		case "movsx8", "movsx864":
			in.off = 8
		case "movsx16", "movsx1664":
			in.off = 16
		case "movsx32", "movsx3264":
			in.off = 32
		case "movsx832":
			in.off, cls = 8, 0x04
		case "movsx1632":
			in.off, cls = 16, 0x04
		default:
			return in, fmt.Errorf("unknown mnemonic %s", mn)
		}
		in.op = 0xb8 | cls
		if err := need(2); err != nil {
			return in, err
		}
		if in.dst, err = reg(ops[0]); err != nil {
			return in, err
		}
		in.src, err = reg(ops[1])
		return in, err
	}
	base := strings.TrimSuffix(mn, "32")
	is32 := base != mn
	if code, ok := jmpOps[base]; ok {
		in.op = code | 0x05
		if is32 {
			in.op = code | 0x06
		}
		if err := need(3); err != nil {
			return in, err
		}
		if in.dst, err = reg(ops[0]); err != nil {
			return in, err
		}
		if isReg(ops[1]) {
			in.op |= 0x08
			if in.src, err = reg(ops[1]); err != nil {
				return in, err
			}
		} else {
			v, err := num(ops[1])
			if err != nil {
				return in, err
			}
			in.imm = int32(v)
		}
		return in, target(&in, ops[2])
	}
	if code, ok := aluOps[base]; ok {
		in.op = code | 0x07
		if is32 {
			in.op = code | 0x04
		}
		if base == "sdiv" || base == "smod" {
			in.off = 1
		}
		if base == "neg" {
			if len(ops) < 1 {
				return in, fmt.Errorf("neg takes a register")
			}
			in.dst, err = reg(ops[0])
			return in, err
		}
		if err := need(2); err != nil {
			return in, err
		}
		if in.dst, err = reg(ops[0]); err != nil {
			return in, err
		}
		if isReg(ops[1]) {
			in.op |= 0x08
			in.src, err = reg(ops[1])
			return in, err
		}
		v, err := num(ops[1])
		in.imm = int32(v)
		return in, err
	}
	return in, fmt.Errorf("unknown mnemonic %s", mn)
}

func isStore(mn string) bool {
	if !strings.HasPrefix(mn, "st") {
		return false
	}
	_, ok := sizes[mn[2:]]
	return ok
}
