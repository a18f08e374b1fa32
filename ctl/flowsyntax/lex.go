package flowsyntax

import "strings"

// The tokenizer follows ovs-ofctl's ofputil_parse_key_value: a flow string
// is a list of "key", "key=value", "key:value" or "key(value)" items
// separated by commas or white space, and "key(args)=value" for the generic
// oxm(...) fields. A value given with '=' or ':' runs to
// the next comma or white space, except that balanced parentheses inside it
// are kept whole ("write_actions(output:1,output:2)"). A value given with
// '(' runs to the matching ')'; "set_field(...)->dst" style values that
// continue after the ')' are kept as one value too.

const (
	itemSeps  = ", \t\r\n"
	keyDelims = ":=(" + itemSeps
)

// item is one key-value pair of a flow or action string.
type item struct {
	key   string
	value string
	delim byte // the byte that ended the key: ':', '=', '(' or 0 (none)
}

// nextItem returns the first item of s and the rest of s. ok is false when
// s holds only separators.
func nextItem(s string) (it item, rest string, ok bool) {
	s = strings.TrimLeft(s, itemSeps)
	if s == "" {
		return item{}, "", false
	}
	n := strings.IndexAny(s, keyDelims)
	if n < 0 {
		return item{key: s}, "", true
	}
	it.key = s[:n]
	d := s[n]
	s = s[n+1:]
	var valueEnd string
	switch d {
	case ':', '=':
		valueEnd = itemSeps
	case '(':
		valueEnd = ")"
	default:
		// A separator right after the key: no value.
		return it, s, true
	}
	it.delim = d
	vn := valueLen(s, valueEnd)
	// "key(args)=value": a field named with arguments, such as the generic
	// oxm(0x1,31)=0xc0000202. The key keeps its arguments.
	if d == '(' && vn < len(s) && strings.HasPrefix(s[vn:], ")=") {
		it.key += "(" + s[:vn] + ")"
		it.delim = '='
		s = s[vn+2:]
		vn = valueLen(s, itemSeps)
		it.value = s[:vn]
		if vn < len(s) {
			vn++
		}
		return it, s[vn:], true
	}
	// "key(x)->y": keep "x)->y" as the value, as OVS does for
	// "set_field(...)->field"-like forms.
	if d == '(' && vn < len(s) && strings.HasPrefix(s[vn:], ")->") {
		vn += valueLen(s[vn:], itemSeps)
	}
	it.value = s[:vn]
	if vn < len(s) {
		vn++ // skip the delimiter
	}
	return it, s[vn:], true
}

// valueLen returns the length of the value at the start of s that ends at
// one of delims, skipping over balanced parentheses. An unbalanced '(' runs
// to the end of s.
func valueLen(s, delims string) int {
	n := 0
	for n < len(s) && !strings.ContainsRune(delims, rune(s[n])) {
		if s[n] != '(' {
			n++
			continue
		}
		level := 0
		for n < len(s) {
			switch s[n] {
			case '(':
				level++
			case ')':
				level--
			}
			n++
			if level == 0 {
				break
			}
		}
	}
	return n
}

// items splits s into all its items.
func items(s string) []item {
	var out []item
	for {
		it, rest, ok := nextItem(s)
		if !ok {
			return out
		}
		out = append(out, it)
		s = rest
	}
}
