package openflow

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// String formats the OXM as name=value[/mask], in the style of ovs-ofctl:
// decimal for small integers, dotted or colon notation for addresses, hex
// otherwise.
func (o OXM) String() string {
	var sb strings.Builder
	if o.Field.Class() == OXMClassExperimenter {
		sb.WriteString("exp(0x" + strconv.FormatUint(uint64(o.Experimenter), 16) + "," + strconv.Itoa(int(o.Field.Num())) + ")")
	} else {
		sb.WriteString(o.Field.String())
	}
	sb.WriteByte('=')
	sb.WriteString(formatValue(o.Field, o.Value))
	if o.Mask != nil {
		sb.WriteByte('/')
		sb.WriteString(formatValue(o.Field, o.Mask))
	}
	return sb.String()
}

func formatValue(f Field, v []byte) string {
	if !f.Known() {
		return "0x" + hex.EncodeToString(v)
	}
	switch len(v) {
	case 4:
		switch f {
		case OXMIPv4Src, OXMIPv4Dst, OXMARPSPA, OXMARPTPA:
			return netip.AddrFrom4([4]byte(v)).String()
		}
	case 6:
		var sb strings.Builder
		for i, c := range v {
			if i > 0 {
				sb.WriteByte(':')
			}
			sb.WriteString(hex.EncodeToString([]byte{c}))
		}
		return sb.String()
	case 16:
		return netip.AddrFrom16([16]byte(v)).String()
	}
	if len(v) <= 2 && f != OXMEthType && f != OXMVlanVID {
		return strconv.FormatUint(beUint(v), 10)
	}
	if f == OXMInPort || f == OXMInPhyPort {
		return strconv.FormatUint(beUint(v), 10)
	}
	return "0x" + strconv.FormatUint(beUint(v), 16)
}

// String formats the match as a comma-separated list of fields, or "any"
// when it is empty.
func (m Match) String() string {
	if len(m.Fields) == 0 {
		return "any"
	}
	parts := make([]string, len(m.Fields))
	for i, o := range m.Fields {
		parts[i] = o.String()
	}
	return strings.Join(parts, ",")
}
