package flowsyntax

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/goko-net/goko/openflow"
)

// parseUint parses a decimal or 0x-prefixed hexadecimal number that must
// fit in bits bits.
func parseUint(s string, bits int) (uint64, error) {
	if s == "" {
		return 0, errors.New("missing value")
	}
	var v uint64
	var err error
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		v, err = strconv.ParseUint(s[2:], 16, 64)
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%q is too large (at most %d bits)", s, bits)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if bits < 64 && v>>bits != 0 {
		return 0, fmt.Errorf("%s is out of range (at most %d bits, max %d)", s, bits, uint64(1)<<bits-1)
	}
	return v, nil
}

// parseUintMasked parses "V" or "V/M". mask is all ones of the width when
// absent; hasMask reports whether "/M" was given.
func parseUintMasked(s string, bits int) (v, mask uint64, hasMask bool, err error) {
	vs, ms, hasMask := strings.Cut(s, "/")
	if v, err = parseUint(vs, bits); err != nil {
		return
	}
	mask = ones(bits)
	if hasMask {
		if mask, err = parseUint(ms, bits); err != nil {
			err = fmt.Errorf("mask: %w", err)
			return
		}
	}
	return v & mask, mask, hasMask, nil
}

func ones(bits int) uint64 {
	if bits >= 64 {
		return ^uint64(0)
	}
	return 1<<bits - 1
}

// parseMAC parses "xx:xx:xx:xx:xx:xx".
func parseMAC(s string) ([6]byte, error) {
	var mac [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return mac, fmt.Errorf("%q is not an Ethernet address (want xx:xx:xx:xx:xx:xx)", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) == 0 || len(p) > 2 {
			return mac, fmt.Errorf("%q is not an Ethernet address (want xx:xx:xx:xx:xx:xx)", s)
		}
		mac[i] = byte(v)
	}
	return mac, nil
}

// parseMACMasked parses "MAC" or "MAC/MASK". mask is nil when absent or all
// ones.
func parseMACMasked(s string) (mac [6]byte, mask *[6]byte, err error) {
	vs, ms, has := strings.Cut(s, "/")
	if mac, err = parseMAC(vs); err != nil {
		return
	}
	if has {
		var m [6]byte
		if m, err = parseMAC(ms); err != nil {
			err = fmt.Errorf("mask: %w", err)
			return
		}
		if m != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
			mask = &m
		}
	}
	return
}

// parseAddrMasked parses an IPv4 (bits=32) or IPv6 (bits=128) address with
// an optional "/prefix-length" or "/address-mask". It returns the value
// (already masked) and the mask, nil when it is all ones.
func parseAddrMasked(s string, bits int) (val, mask []byte, err error) {
	vs, ms, has := strings.Cut(s, "/")
	family := "IPv4"
	if bits == 128 {
		family = "IPv6"
	}
	n := bits / 8
	if has {
		if !strings.ContainsAny(ms, ".:") {
			plen, perr := strconv.Atoi(ms)
			if perr != nil || plen < 0 {
				return nil, nil, fmt.Errorf("bad prefix length %q", ms)
			}
			if plen > bits {
				return nil, nil, fmt.Errorf("prefix length %d out of range", plen)
			}
			mask = make([]byte, n)
			for i := 0; i < plen; i++ {
				mask[i/8] |= 0x80 >> (i % 8)
			}
		} else {
			m, merr := netip.ParseAddr(ms)
			if merr != nil || m.BitLen() != bits || m.Zone() != "" {
				return nil, nil, fmt.Errorf("bad %s mask %q", family, ms)
			}
			mask = m.AsSlice()
		}
	}
	a, aerr := netip.ParseAddr(vs)
	if aerr != nil || a.BitLen() != bits || a.Zone() != "" {
		return nil, nil, fmt.Errorf("%q is not an %s address", vs, family)
	}
	val = a.AsSlice()
	if mask != nil {
		full := true
		for i := range val {
			val[i] &= mask[i]
			full = full && mask[i] == 0xff
		}
		if full {
			mask = nil
		}
	}
	return val, mask, nil
}

// reservedPorts are the OpenFlow 1.3 reserved port numbers with the names
// ovs-ofctl uses for them.
var reservedPorts = []struct {
	name string
	port uint32
}{
	{"IN_PORT", openflow.PortInPort},
	{"TABLE", openflow.PortTable},
	{"NORMAL", openflow.PortNormal},
	{"FLOOD", openflow.PortFlood},
	{"ALL", openflow.PortAll},
	{"CONTROLLER", openflow.PortController},
	{"LOCAL", openflow.PortLocal},
	{"ANY", openflow.PortAny},
}

// ofp10Reserved maps the OpenFlow 1.0 reserved port numbers (0xfff8 to
// 0xffff), which ovs-ofctl still accepts, to their 1.3 values.
func ofp10Reserved(v uint64) (uint32, bool) {
	if v >= 0xfff8 && v <= 0xffff {
		return uint32(v) + 0xffff0000, true
	}
	return 0, false
}

// UnknownPortError is returned when a flow names a port that is neither a
// number, nor a reserved name, nor in Options.PortNames. A client can look
// the ports up on the switch (PORT_DESC) and parse again.
type UnknownPortError struct {
	Name string
}

func (e *UnknownPortError) Error() string {
	return fmt.Sprintf("unknown port %q (use a port number, a reserved name such as LOCAL, or a name the switch knows)", e.Name)
}

// parsePort parses a port number, a reserved port name (case does not
// matter) or a port name from names.
func parsePort(s string, names map[string]uint32) (uint32, error) {
	if s == "" {
		return 0, errors.New("missing port")
	}
	name := s
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		name = s[1 : len(s)-1]
	} else if s[0] >= '0' && s[0] <= '9' {
		v, err := parseUint(s, 32)
		if err != nil {
			return 0, fmt.Errorf("bad port %q", s)
		}
		if p, ok := ofp10Reserved(v); ok {
			return p, nil
		}
		if v > uint64(openflow.PortMax) && !isReserved(uint32(v)) {
			return 0, fmt.Errorf("port %s is neither a valid port number (at most %d) nor a reserved port", s, openflow.PortMax)
		}
		return uint32(v), nil
	} else {
		for _, r := range reservedPorts {
			if strings.EqualFold(s, r.name) {
				return r.port, nil
			}
		}
		if strings.EqualFold(s, "NONE") {
			return openflow.PortAny, nil
		}
	}
	if p, ok := names[name]; ok {
		return p, nil
	}
	return 0, &UnknownPortError{Name: name}
}

func isReserved(p uint32) bool {
	for _, r := range reservedPorts {
		if r.port == p {
			return true
		}
	}
	return false
}

// FormatPort returns the ovs-ofctl spelling of an OpenFlow 1.3 port
// number: its reserved name (LOCAL, CONTROLLER, ...) or its decimal value.
func FormatPort(p uint32) string {
	for _, r := range reservedPorts {
		if r.port == p {
			return r.name
		}
	}
	return strconv.FormatUint(uint64(p), 10)
}

// formatMAC writes a MAC address as xx:xx:xx:xx:xx:xx.
func formatMAC(b []byte) string {
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 17)
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hexd[c>>4], hexd[c&15])
	}
	return string(out)
}

// formatMACMasked writes "MAC" or "MAC/MASK" (the mask only when it is
// not all ones), like OVS's eth_format_masked.
func formatMACMasked(v, m []byte) string {
	if m == nil || allOnes(m) {
		return formatMAC(v)
	}
	return formatMAC(v) + "/" + formatMAC(m)
}

func allOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

// prefixLen returns the CIDR prefix length of mask, or -1 if the mask is
// not contiguous.
func prefixLen(mask []byte) int {
	n := 0
	i := 0
	for ; i < len(mask) && mask[i] == 0xff; i++ {
		n += 8
	}
	if i == len(mask) {
		return n
	}
	c := mask[i]
	for c&0x80 != 0 {
		n++
		c <<= 1
	}
	if c != 0 {
		return -1
	}
	for i++; i < len(mask); i++ {
		if mask[i] != 0 {
			return -1
		}
	}
	return n
}

// formatIPv4Masked writes "A.B.C.D", "A.B.C.D/N" or "A.B.C.D/M.M.M.M" as
// OVS's ip_format_masked does.
func formatIPv4Masked(v, m []byte) string {
	s := fmt.Sprintf("%d.%d.%d.%d", v[0], v[1], v[2], v[3])
	if m == nil || allOnes(m) {
		return s
	}
	if n := prefixLen(m); n >= 0 {
		return s + "/" + strconv.Itoa(n)
	}
	return s + fmt.Sprintf("/%d.%d.%d.%d", m[0], m[1], m[2], m[3])
}

// formatIPv6Masked writes an IPv6 address with its mask the way OVS's
// ipv6_format_masked does: a CIDR suffix for contiguous masks, else the
// mask as an address.
func formatIPv6Masked(v, m []byte) string {
	s := formatIPv6(v)
	if m == nil || allOnes(m) {
		return s
	}
	if n := prefixLen(m); n >= 0 {
		return s + "/" + strconv.Itoa(n)
	}
	return s + "/" + formatIPv6(m)
}

// formatIPv6 formats a 16-byte address as glibc's inet_ntop does, which is
// what OVS prints. It differs from netip.Addr.String only for the
// deprecated IPv4-compatible form ::a.b.c.d, which glibc keeps.
func formatIPv6(b []byte) string {
	var w [8]uint16
	for i := range w {
		w[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	// Longest run of zero words (length >= 2), first one on ties.
	best, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen && j-i >= 2 {
			best, bestLen = i, j-i
		}
		i = j
	}
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				sb.WriteByte(':')
			}
			continue
		}
		if i != 0 {
			sb.WriteByte(':')
		}
		// Embedded IPv4: ::a.b.c.d or ::ffff:a.b.c.d.
		if i == 6 && best == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			fmt.Fprintf(&sb, "%d.%d.%d.%d", b[12], b[13], b[14], b[15])
			break
		}
		sb.WriteString(strconv.FormatUint(uint64(w[i]), 16))
	}
	if best >= 0 && best+bestLen == 8 {
		sb.WriteByte(':')
	}
	return sb.String()
}

// ParsePort parses a port the way flows write one: a number, a reserved
// name (LOCAL, CONTROLLER, IN_PORT, ...; any case), or a name from
// opts.PortNames. An unknown name yields an *UnknownPortError.
func ParsePort(s string, opts *Options) (uint32, error) {
	return parsePort(s, opts.names())
}
