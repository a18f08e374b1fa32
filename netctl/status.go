package netctl

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteStatus prints the topology: switches, then each VNI with its NICs,
// then the security groups.
func (st *State) WriteStatus(w io.Writer) {
	fmt.Fprintf(w, "switches: %d\n", len(st.Switches))
	for _, name := range st.SwitchNames() {
		sw := st.Switches[name]
		n := 0
		for _, nic := range st.NICs {
			if nic.Switch == name {
				n++
			}
		}
		progs := ""
		if sw.SGMode == SGModeProgram {
			want := st.Want(name)
			entries := 0
			for _, m := range want.Programs {
				entries += m.Entries()
			}
			progs = fmt.Sprintf("  sg programs %d (map entries %d)", len(want.Programs), entries)
		}
		fmt.Fprintf(w, "  %s  target %s  vtep %s  tunnel port %d  nics %d  flows %d%s\n",
			name, sw.Target, sw.VTEP, sw.TunnelPort, n, len(st.Flows(name)), progs)
	}
	vnis := st.vnis()
	fmt.Fprintf(w, "vnis: %d\n", len(vnis))
	for _, v := range vnis {
		fmt.Fprintf(w, "  vni %d\n", v)
		for _, n := range st.sortedNICs() {
			if n.VNI != v {
				continue
			}
			sgs := "-"
			if len(n.SGs) > 0 {
				sgs = strings.Join(n.SGs, ",")
			}
			fmt.Fprintf(w, "    %-12s %s  %-15s  %s:%d  sg %s\n", n.ID, n.MAC, strings.Join(n.IPs, ","), n.Switch, n.Port, sgs)
		}
	}
	fmt.Fprintf(w, "security groups: %d\n", len(st.SGs))
	for _, id := range st.sgIDs() {
		g := st.SGs[id]
		fmt.Fprintf(w, "  %s (%d rules)\n", id, len(g.Rules))
		for _, r := range g.Rules {
			fmt.Fprintf(w, "    allow %s\n", r)
		}
	}
}

func (st *State) vnis() []uint32 {
	set := map[uint32]bool{}
	for _, n := range st.NICs {
		set[n.VNI] = true
	}
	var out []uint32
	for v := range set {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (st *State) sgIDs() []string {
	var out []string
	for id := range st.SGs {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// dotColors tell VNIs apart.
var dotColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// WriteDot prints the topology as a Graphviz graph: one cluster per
// switch holding its NICs (coloured by VNI), the VXLAN mesh between the
// switches that share a VNI, and the security-group rules as dashed edges
// from a rule's sources to the NICs it opens.
func (st *State) WriteDot(w io.Writer) {
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
	color := map[uint32]string{}
	for i, v := range st.vnis() {
		color[v] = dotColors[i%len(dotColors)]
	}
	fmt.Fprintln(w, "graph netctl {")
	fmt.Fprintln(w, "  compound=true; node [shape=box, fontname=monospace, fontsize=10];")
	for _, name := range st.SwitchNames() {
		sw := st.Switches[name]
		fmt.Fprintf(w, "  subgraph %s {\n    label=%s;\n", q("cluster_"+name), q(fmt.Sprintf("%s\\nvtep %s", name, sw.VTEP)))
		fmt.Fprintf(w, "    %s [label=%s, shape=ellipse];\n", q("sw:"+name), q(fmt.Sprintf("%s (vxlan port %d)", name, sw.TunnelPort)))
		for _, n := range st.sortedNICs() {
			if n.Switch != name {
				continue
			}
			label := fmt.Sprintf("%s\\n%s\\n%s\\nvni %d", n.ID, n.MAC, strings.Join(n.IPs, ","), n.VNI)
			if len(n.SGs) > 0 {
				label += "\\nsg " + strings.Join(n.SGs, ",")
			}
			fmt.Fprintf(w, "    %s [label=%s, color=%s, fontcolor=%s];\n", q("nic:"+n.ID), q(label), q(color[n.VNI]), q(color[n.VNI]))
			fmt.Fprintf(w, "    %s -- %s [label=%s];\n", q("sw:"+name), q("nic:"+n.ID), q(fmt.Sprintf("port %d", n.Port)))
		}
		fmt.Fprintln(w, "  }")
	}
	names := st.SwitchNames()
	for i, a := range names {
		for _, b := range names[i+1:] {
			var shared []string
			for _, v := range st.vnis() {
				inA, inB := false, false
				for _, n := range st.NICs {
					if n.VNI == v {
						inA = inA || n.Switch == a
						inB = inB || n.Switch == b
					}
				}
				if inA && inB {
					shared = append(shared, fmt.Sprint(v))
				}
			}
			if len(shared) > 0 {
				fmt.Fprintf(w, "  %s -- %s [label=%s, style=bold];\n", q("sw:"+a), q("sw:"+b), q("vxlan vni "+strings.Join(shared, ",")))
			}
		}
	}
	for _, n := range st.sortedNICs() {
		for _, r := range st.rules(n) {
			if r.CIDR != "" {
				src := "cidr:" + r.CIDR
				fmt.Fprintf(w, "  %s [shape=plaintext];\n", q(src))
				fmt.Fprintf(w, "  %s -- %s [style=dashed, label=%s];\n", q(src), q("nic:"+n.ID), q(ruleLabel(r)))
				continue
			}
			for _, m := range st.sortedNICs() {
				for _, sg := range m.SGs {
					if sg == r.Members && m.VNI == n.VNI && m != n {
						fmt.Fprintf(w, "  %s -- %s [style=dashed, label=%s];\n", q("nic:"+m.ID), q("nic:"+n.ID), q(ruleLabel(r)))
					}
				}
			}
		}
	}
	fmt.Fprintln(w, "}")
}

func ruleLabel(r Rule) string {
	s := r.Proto
	if r.PortMin != 0 {
		s += fmt.Sprintf("/%d", r.PortMin)
		if r.PortMax != r.PortMin {
			s += fmt.Sprintf("-%d", r.PortMax)
		}
	}
	return s
}
