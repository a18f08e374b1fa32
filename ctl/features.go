package ctl

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goko-net/goko/openflow"
)

// dump-table-features, printed as ovs-ofctl prints it: each table's
// metadata bits, size, instructions, next tables, actions, set-field
// fields and match fields, with "ditto" and "(same ...)" for what repeats
// the previous table. Fields use OVS's names in OVS's order, condensed
// ("eth_{src,dst,type}"); fields OVS does not know (in_phy_port,
// pbb_isid, ipv6_exthdr, experimenter fields such as filter_prog) are
// listed after them.

// ovsFieldOrder lists the OpenFlow 1.3 fields in Open vSwitch's
// meta-flow order, with OVS's names.
var ovsFieldOrder = []struct {
	f    openflow.Field
	name string
}{
	{openflow.OXMTunnelID, "tun_id"}, {openflow.OXMMetadata, "metadata"}, {openflow.OXMInPort, "in_port_oxm"},
	{openflow.OXMEthSrc, "eth_src"}, {openflow.OXMEthDst, "eth_dst"}, {openflow.OXMEthType, "eth_type"},
	{openflow.OXMVlanVID, "vlan_vid"}, {openflow.OXMVlanPCP, "vlan_pcp"},
	{openflow.OXMMPLSLabel, "mpls_label"}, {openflow.OXMMPLSTC, "mpls_tc"}, {openflow.OXMMPLSBOS, "mpls_bos"},
	{openflow.OXMIPv4Src, "ip_src"}, {openflow.OXMIPv4Dst, "ip_dst"},
	{openflow.OXMIPv6Src, "ipv6_src"}, {openflow.OXMIPv6Dst, "ipv6_dst"}, {openflow.OXMIPv6FLabel, "ipv6_label"},
	{openflow.OXMIPProto, "nw_proto"}, {openflow.OXMIPDSCP, "ip_dscp"}, {openflow.OXMIPECN, "nw_ecn"},
	{openflow.OXMARPOp, "arp_op"}, {openflow.OXMARPSPA, "arp_spa"}, {openflow.OXMARPTPA, "arp_tpa"},
	{openflow.OXMARPSHA, "arp_sha"}, {openflow.OXMARPTHA, "arp_tha"},
	{openflow.OXMTCPSrc, "tcp_src"}, {openflow.OXMTCPDst, "tcp_dst"},
	{openflow.OXMUDPSrc, "udp_src"}, {openflow.OXMUDPDst, "udp_dst"},
	{openflow.OXMSCTPSrc, "sctp_src"}, {openflow.OXMSCTPDst, "sctp_dst"},
	{openflow.OXMICMPv4Type, "icmp_type"}, {openflow.OXMICMPv4Code, "icmp_code"},
	{openflow.OXMICMPv6Type, "icmpv6_type"}, {openflow.OXMICMPv6Code, "icmpv6_code"},
	{openflow.OXMIPv6NDTarget, "nd_target"}, {openflow.OXMIPv6NDSLL, "nd_sll"}, {openflow.OXMIPv6NDTLL, "nd_tll"},
	// Not in OVS:
	{openflow.OXMInPhyPort, "in_phy_port"}, {openflow.OXMPBBISID, "pbb_isid"}, {openflow.OXMIPv6ExtHdr, "ipv6_exthdr"},
}

// fieldSet is a set of match fields as table features list them.
type fieldSet struct {
	masked map[openflow.Field]bool // present, and whether with a mask
	exp    []string                // experimenter fields, by name
}

func oxmIDName(id openflow.OXMID) string {
	if id.Field.Class() == openflow.OXMClassExperimenter {
		if id.Experimenter == openflow.GokoExperimenter && id.Field.Num() == openflow.GokoFieldFilterProg {
			return "filter_prog"
		}
		return fmt.Sprintf("oxm(exp=0x%08x,%d)", id.Experimenter, id.Field.Num())
	}
	return id.Field.String()
}

func newFieldSet(ids []openflow.OXMID) fieldSet {
	s := fieldSet{masked: map[openflow.Field]bool{}}
	for _, id := range ids {
		if id.Field.Class() != openflow.OXMClassOpenFlowBasic {
			s.exp = append(s.exp, oxmIDName(id))
			continue
		}
		s.masked[id.Field] = s.masked[id.Field] || id.HasMask
	}
	return s
}

func (s fieldSet) empty() bool { return len(s.masked) == 0 && len(s.exp) == 0 }

func (s fieldSet) equal(o fieldSet) bool {
	return reflect.DeepEqual(s.masked, o.masked) && slices.Equal(s.exp, o.exp)
}

// names returns the names of the fields for which keep is true, in
// OVS's order, then unknown basic fields, then experimenter fields.
func (s fieldSet) names(keep func(f openflow.Field) bool) []string {
	var out []string
	seen := map[openflow.Field]bool{}
	for _, of := range ovsFieldOrder {
		seen[of.f] = true
		if _, ok := s.masked[of.f]; ok && keep(of.f) {
			out = append(out, of.name)
		}
	}
	var rest []openflow.Field
	for f := range s.masked {
		if !seen[f] && keep(f) {
			rest = append(rest, f)
		}
	}
	slices.Sort(rest)
	for _, f := range rest {
		out = append(out, f.String())
	}
	if keep(0) {
		out = append(out, s.exp...)
	}
	return out
}

// condense joins names as OVS does: a run of names with the same prefix
// before the first '_' becomes "prefix_{a,b,c}".
func condense(names []string) string {
	var parts []string
	for i := 0; i < len(names); {
		pre, _, ok := strings.Cut(names[i], "_")
		j := i + 1
		for ok && j < len(names) {
			p2, _, ok2 := strings.Cut(names[j], "_")
			if !ok2 || p2 != pre {
				break
			}
			j++
		}
		if j-i == 1 {
			parts = append(parts, names[i])
		} else {
			var sufs []string
			for _, n := range names[i:j] {
				sufs = append(sufs, strings.TrimPrefix(n, pre+"_"))
			}
			parts = append(parts, pre+"_{"+strings.Join(sufs, ",")+"}")
		}
		i = j
	}
	return strings.Join(parts, " ")
}

// actionFeatures is the Write-Actions or Apply-Actions part of a table.
type actionFeatures struct {
	actions uint64 // bitmap of action types (bit 63: experimenter)
	fields  fieldSet
}

func (a actionFeatures) equal(o actionFeatures) bool {
	return a.actions == o.actions && a.fields.equal(o.fields)
}

// instFeatures is the table-miss or other-flows part of a table.
type instFeatures struct {
	next         []uint8
	hasNext      bool
	instructions uint32
	write, apply actionFeatures
}

// equal compares everything but the next tables, which differ from
// table to table (OVS ignores them too, so that a run of tables that
// differ only there prints as "ditto").
func (t instFeatures) equal(o instFeatures) bool {
	return t.instructions == o.instructions && t.write.equal(o.write) && t.apply.equal(o.apply)
}

func (t instFeatures) empty() bool {
	return len(t.next) == 0 && t.instructions == 0 && t.write.actions == 0 && t.apply.actions == 0 &&
		t.write.fields.empty() && t.apply.fields.empty()
}

type tableInfo struct {
	f             *openflow.TableFeatures
	nonmiss, miss instFeatures
	match         fieldSet
	wildcards     fieldSet
}

func actionBits(ids []openflow.ActionID) uint64 {
	var v uint64
	for _, a := range ids {
		if a.Type < 63 {
			v |= 1 << a.Type
		} else {
			v |= 1 << 63
		}
	}
	return v
}

func newTableInfo(f *openflow.TableFeatures) tableInfo {
	t := tableInfo{f: f}
	props := map[openflow.TableFeaturePropType]openflow.TableFeatureProp{}
	for _, p := range f.Properties {
		props[p.PropType()] = p
	}
	// A _MISS property that is absent means "same as for other flows".
	get := func(t, miss openflow.TableFeaturePropType, forMiss bool) openflow.TableFeatureProp {
		if forMiss {
			if p, ok := props[miss]; ok {
				return p
			}
		}
		return props[t]
	}
	for _, forMiss := range []bool{false, true} {
		var it instFeatures
		if p, ok := get(openflow.TFPTInstructions, openflow.TFPTInstructionsMiss, forMiss).(*openflow.TFPInstructions); ok {
			for _, in := range p.Instructions {
				if in.Type < 32 {
					it.instructions |= 1 << in.Type
				}
			}
		}
		if p, ok := get(openflow.TFPTNextTables, openflow.TFPTNextTablesMiss, forMiss).(*openflow.TFPNextTables); ok {
			it.next, it.hasNext = p.TableIDs, true
		}
		if p, ok := get(openflow.TFPTWriteActions, openflow.TFPTWriteActionsMiss, forMiss).(*openflow.TFPActions); ok {
			it.write.actions = actionBits(p.Actions)
		}
		if p, ok := get(openflow.TFPTApplyActions, openflow.TFPTApplyActionsMiss, forMiss).(*openflow.TFPActions); ok {
			it.apply.actions = actionBits(p.Actions)
		}
		if p, ok := get(openflow.TFPTWriteSetfield, openflow.TFPTWriteSetfieldMiss, forMiss).(*openflow.TFPOXM); ok {
			it.write.fields = newFieldSet(p.Fields)
		}
		if p, ok := get(openflow.TFPTApplySetfield, openflow.TFPTApplySetfieldMiss, forMiss).(*openflow.TFPOXM); ok {
			it.apply.fields = newFieldSet(p.Fields)
		}
		if forMiss {
			t.miss = it
		} else {
			t.nonmiss = it
		}
	}
	if p, ok := props[openflow.TFPTMatch].(*openflow.TFPOXM); ok {
		t.match = newFieldSet(p.Fields)
	}
	if p, ok := props[openflow.TFPTWildcards].(*openflow.TFPOXM); ok {
		t.wildcards = newFieldSet(p.Fields)
	}
	return t
}

func (t tableInfo) sameAs(p tableInfo) bool {
	a, b := *t.f, *p.f
	return a.MetadataMatch == b.MetadataMatch && a.MetadataWrite == b.MetadataWrite && a.Config == b.Config &&
		a.MaxEntries == b.MaxEntries && t.nonmiss.equal(p.nonmiss) && t.miss.equal(p.miss) &&
		t.match.equal(p.match) && t.wildcards.equal(p.wildcards)
}

var instNames13 = map[int]string{1: "goto_table", 2: "write_metadata", 3: "write_actions", 4: "apply_actions", 5: "clear_actions", 6: "meter"}

// OVS prints instructions in its own order.
var instOrder = []int{6, 4, 5, 3, 2, 1}

func formatActionFeatures(b *strings.Builder, a actionFeatures) {
	if a.actions != 0 {
		names := actionBitmapNames(uint32(a.actions))
		if a.actions&(1<<63) != 0 {
			names = append(names, "experimenter")
		}
		fmt.Fprintf(b, "        actions: %s\n", strings.Join(names, " "))
	}
	if !a.fields.empty() {
		fmt.Fprintf(b, "        supported on Set-Field: %s\n", condense(a.fields.names(func(openflow.Field) bool { return true })))
	}
}

func formatInstFeatures(b *strings.Builder, t instFeatures, prev *instFeatures) {
	if len(t.next) > 0 {
		b.WriteString("      next tables: ")
		var parts []string
		for i := 0; i < len(t.next); {
			j := i
			for j+1 < len(t.next) && t.next[j+1] == t.next[j]+1 {
				j++
			}
			if i == j {
				parts = append(parts, fmt.Sprint(t.next[i]))
			} else {
				parts = append(parts, fmt.Sprintf("%d-%d", t.next[i], t.next[j]))
			}
			i = j + 1
		}
		b.WriteString(strings.Join(parts, ",") + "\n")
	}
	if t.instructions != 0 {
		if prev != nil && prev.instructions == t.instructions {
			b.WriteString("      (same instructions)\n")
		} else {
			var names []string
			for _, i := range instOrder {
				if t.instructions&(1<<i) != 0 {
					names = append(names, instNames13[i])
				}
			}
			for i := 0; i < 32; i++ {
				if _, known := instNames13[i]; !known && t.instructions&(1<<i) != 0 {
					names = append(names, fmt.Sprint(i))
				}
			}
			fmt.Fprintf(b, "      instructions: %s\n", strings.Join(names, " "))
		}
	}
	switch {
	case prev != nil && t.write.equal(prev.write) && t.apply.equal(prev.apply) && !t.write.fields.empty():
		b.WriteString("      (same actions)\n")
	case !t.write.equal(t.apply):
		b.WriteString("      Write-Actions features:\n")
		formatActionFeatures(b, t.write)
		b.WriteString("      Apply-Actions features:\n")
		formatActionFeatures(b, t.apply)
	case t.write.actions != 0 || !t.write.fields.empty():
		b.WriteString("      Write-Actions and Apply-Actions features:\n")
		formatActionFeatures(b, t.write)
	}
}

// FormatTableFeatures prints a TABLE_FEATURES reply as
// dump-table-features does.
func FormatTableFeatures(tables []openflow.TableFeatures) string {
	var b strings.Builder
	var prev *tableInfo
	for i := range tables {
		t := newTableInfo(&tables[i])
		f := t.f
		fmt.Fprintf(&b, "  table %d", f.TableID)
		if f.Name != "" {
			fmt.Fprintf(&b, " (\"%s\")", f.Name)
		}
		b.WriteByte(':')
		if prev != nil && t.sameAs(*prev) {
			b.WriteString(" ditto\n")
			prev = &t
			continue
		}
		b.WriteByte('\n')
		if f.MetadataMatch != 0 || f.MetadataWrite != 0 {
			fmt.Fprintf(&b, "    metadata: match=%#x write=%#x\n", f.MetadataMatch, f.MetadataWrite)
		}
		if f.MaxEntries != 0 {
			fmt.Fprintf(&b, "    max_entries=%d\n", f.MaxEntries)
		}
		var pn, pm *instFeatures
		if prev != nil {
			pn, pm = &prev.nonmiss, &prev.miss
		}
		switch {
		case prev != nil && t.nonmiss.equal(*pn) && t.miss.equal(*pm):
			if !t.nonmiss.empty() {
				b.WriteString("    (same instructions)\n")
			}
		case !t.nonmiss.equal(t.miss):
			b.WriteString("    instructions (other than table miss):\n")
			formatInstFeatures(&b, t.nonmiss, pn)
			b.WriteString("    instructions (table miss):\n")
			formatInstFeatures(&b, t.miss, pm)
		case !t.nonmiss.empty():
			b.WriteString("    instructions (table miss and others):\n")
			formatInstFeatures(&b, t.nonmiss, pn)
		}
		if !t.match.empty() {
			if prev != nil && t.match.equal(prev.match) && t.wildcards.equal(prev.wildcards) {
				b.WriteString("    (same matching)\n")
			} else {
				b.WriteString("    matching:\n")
				for _, g := range []struct {
					title          string
					mask, wildcard bool
				}{{"arbitrary mask", true, true}, {"exact match or wildcard", false, true}, {"must match exactly", false, false}} {
					names := t.match.names(func(fl openflow.Field) bool {
						if fl == 0 { // experimenter fields: exact match
							return !g.mask && !g.wildcard
						}
						_, w := t.wildcards.masked[fl]
						return t.match.masked[fl] == g.mask && w == g.wildcard
					})
					if len(names) > 0 {
						fmt.Fprintf(&b, "      %s: %s\n", g.title, condense(names))
					}
				}
			}
		}
		b.WriteByte('\n')
		prev = &t
	}
	return b.String()
}

func (c *cli) dumpTableFeatures(args []string) error {
	bodies, _, err := c.query(args[0], "table features request", 0, &openflow.TableFeaturesRequest{})
	if err != nil {
		return err
	}
	var tables []openflow.TableFeatures
	for _, b := range bodies {
		tables = append(tables, b.(*openflow.TableFeaturesReply).Tables...)
	}
	if c.json {
		return c.printJSON(jsonTableFeatures(tables))
	}
	fmt.Fprint(c.out, FormatTableFeatures(tables))
	return nil
}

type jsonTableFeature struct {
	TableID       uint8    `json:"table"`
	Name          string   `json:"name"`
	MetadataMatch string   `json:"metadata_match"`
	MetadataWrite string   `json:"metadata_write"`
	MaxEntries    uint32   `json:"max_entries"`
	NextTables    []int    `json:"next_tables"`
	Instructions  []string `json:"instructions"`
	WriteActions  []string `json:"write_actions"`
	ApplyActions  []string `json:"apply_actions"`
	WriteSetfield []string `json:"write_setfield"`
	ApplySetfield []string `json:"apply_setfield"`
	Match         []string `json:"match"`
	Wildcards     []string `json:"wildcards"`
}

func jsonTableFeatures(tables []openflow.TableFeatures) []jsonTableFeature {
	out := []jsonTableFeature{}
	all := func(openflow.Field) bool { return true }
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	for i := range tables {
		t := newTableInfo(&tables[i])
		j := jsonTableFeature{TableID: t.f.TableID, Name: t.f.Name, MaxEntries: t.f.MaxEntries,
			MetadataMatch: fmt.Sprintf("%#x", t.f.MetadataMatch), MetadataWrite: fmt.Sprintf("%#x", t.f.MetadataWrite),
			NextTables:   []int{},
			WriteActions: actionBitmapNames(uint32(t.nonmiss.write.actions)), ApplyActions: actionBitmapNames(uint32(t.nonmiss.apply.actions)),
			WriteSetfield: nonNil(t.nonmiss.write.fields.names(all)), ApplySetfield: nonNil(t.nonmiss.apply.fields.names(all)),
			Match: nonNil(t.match.names(all)), Wildcards: nonNil(t.wildcards.names(all)), Instructions: []string{}}
		for _, n := range t.nonmiss.next {
			j.NextTables = append(j.NextTables, int(n))
		}
		for _, k := range instOrder {
			if t.nonmiss.instructions&(1<<k) != 0 {
				j.Instructions = append(j.Instructions, instNames13[k])
			}
		}
		out = append(out, j)
	}
	return out
}
