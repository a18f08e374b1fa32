package ctl

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/openflow"
)

// dump-flows --sort/--rsort, replace-flows and diff-flows.

// sortKey is one --sort or --rsort criterion.
type sortKey struct {
	name   string
	fields []openflow.Field // nil: priority
	desc   bool
}

// sortValue is the --sort and --rsort flags: each use appends a
// criterion, in command-line order.
type sortValue struct {
	keys *[]sortKey
	desc bool
}

func (v sortValue) String() string { return "" }
func (v sortValue) Type() string   { return "FIELD" }
func (v sortValue) Set(s string) error {
	k := sortKey{name: s, desc: v.desc}
	if s != "priority" {
		f, ok := flowsyntax.SortFields(s)
		if !ok {
			return fmt.Errorf("%q is not a field to sort by (a match field such as nw_src or tcp_dst, or priority)", s)
		}
		k.fields = f
	}
	*v.keys = append(*v.keys, k)
	return nil
}

// sortFlows sorts flows as ovs-ofctl does: by each criterion in turn; a
// flow that does not match on a field sorts after those that do, in both
// directions; a field's value compares as its big-endian bytes (with the
// wildcarded bits zero); ties keep the switch's order.
func sortFlows(stats []openflow.FlowStats, keys []sortKey) {
	value := func(fs *openflow.FlowStats, fields []openflow.Field) []byte {
		for _, f := range fields {
			for _, o := range fs.Match.Fields {
				if o.Field == f && (f.Class() != openflow.OXMClassExperimenter || o.Experimenter == openflow.GokoExperimenter) {
					return o.Value
				}
			}
		}
		return nil
	}
	sort.SliceStable(stats, func(i, j int) bool {
		a, b := &stats[i], &stats[j]
		for _, k := range keys {
			var r int
			if k.fields == nil {
				switch {
				case a.Priority < b.Priority:
					r = -1
				case a.Priority > b.Priority:
					r = 1
				}
			} else {
				va, vb := value(a, k.fields), value(b, k.fields)
				if (va == nil) != (vb == nil) {
					return va != nil // missing fields last, whatever the order
				}
				r = bytes.Compare(va, vb)
			}
			if r != 0 {
				return (r < 0) != k.desc
			}
		}
		return false
	})
}

// flowVersion is one side of a flow in replace-flows and diff-flows: a
// flow is identified by table, priority and match (ofclient.Flow.Key).
type flowVersion struct {
	ofclient.Flow
	fm *openflow.FlowMod // the flow as read from a file
}

// format prints the version as ovs-ofctl's diff-flows does.
func (v *flowVersion) format() string {
	var b strings.Builder
	if v.Table != 0 {
		fmt.Fprintf(&b, "table=%d ", v.Table)
	}
	b.WriteString(flowsyntax.FormatMatch(v.Match, int(v.Priority)))
	if v.Cookie != 0 {
		fmt.Fprintf(&b, " cookie=0x%x", v.Cookie)
	}
	if v.IdleTimeout != 0 {
		fmt.Fprintf(&b, " idle_timeout=%d", v.IdleTimeout)
	}
	if v.HardTimeout != 0 {
		fmt.Fprintf(&b, " hard_timeout=%d", v.HardTimeout)
	}
	b.WriteString(" actions=" + flowsyntax.FormatInstructions(v.Instructions))
	return b.String()
}

// flowSet is the flows of a file or a switch, in the order read.
type flowSet struct {
	list  []*flowVersion
	byKey map[string]*flowVersion // the last version of each key
	order []string                // the keys in order of first appearance
}

func (s *flowSet) add(v *flowVersion) {
	s.list = append(s.list, v)
	k := v.Key()
	if _, ok := s.byKey[k]; !ok {
		s.order = append(s.order, k)
	}
	s.byKey[k] = v // a later line replaces an earlier one, as an add would
}

// flows returns the set as the diff takes it.
func (s *flowSet) flows() []ofclient.Flow {
	out := make([]ofclient.Flow, len(s.list))
	for i, v := range s.list {
		out[i] = v.Flow
	}
	return out
}

func (c *cli) flowsFromFile(target, name string) (*flowSet, error) {
	reqs, err := c.readFlowFile(target, name, false)
	if err != nil {
		return nil, err
	}
	s := &flowSet{byKey: map[string]*flowVersion{}}
	for _, r := range reqs {
		s.add(&flowVersion{Flow: ofclient.FlowFromMod(r.fm), fm: r.fm})
	}
	return s, nil
}

func (c *cli) flowsFromSwitch(conn *ofclient.Conn) (*flowSet, error) {
	bodies, _, err := conn.Multipart(c.ctx, &openflow.FlowStatsRequest{TableID: openflow.TableAll,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny})
	if err != nil {
		return nil, c.requestErr("flow stats request", "", err)
	}
	s := &flowSet{byKey: map[string]*flowVersion{}}
	for _, b := range bodies {
		for i := range b.(*openflow.FlowStatsReply).Stats {
			s.add(&flowVersion{Flow: ofclient.FlowFromStats(&b.(*openflow.FlowStatsReply).Stats[i])})
		}
	}
	return s, nil
}

func (c *cli) replaceFlows(args []string) error {
	file, err := c.flowsFromFile(args[0], args[1])
	if err != nil {
		return err
	}
	s := &session{c: c, target: args[0]}
	defer s.close()
	conn, err := s.get()
	if err != nil {
		return err
	}
	sw, err := c.flowsFromSwitch(conn)
	if err != nil {
		return err
	}
	// Delete what the switch has and the file does not, then add what is
	// missing or differs.
	ch := ofclient.Diff(sw.flows(), file.flows(), c.readd)
	var reqs []flowReq
	for _, i := range ch.Delete {
		fm := sw.list[i].DeleteMod() // no flags, as ovs-ofctl
		reqs = append(reqs, flowReq{fm: fm, text: flowsyntax.FormatFlowMod(fm)})
	}
	for _, j := range ch.Add {
		fm := file.list[j].fm
		reqs = append(reqs, flowReq{fm: fm, text: flowsyntax.FormatFlowMod(fm)})
	}
	if len(reqs) == 0 {
		return nil
	}
	return c.sendFlowMods(s, reqs)
}

// isFileSource reports whether a diff-flows source names a file, by
// ovs-ofctl's rule: a name that starts with / or . is a file, one with a
// ':' is a switch, anything else is a file if it exists.
func isFileSource(s string) bool {
	if s == "-" || strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return true
	}
	if strings.Contains(s, ":") {
		return false
	}
	_, err := os.Stat(s)
	return err == nil
}

func (c *cli) readSource(src string) (*flowSet, error) {
	if isFileSource(src) {
		return c.flowsFromFile("", src)
	}
	conn, err := c.dial(src)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return c.flowsFromSwitch(conn)
}

// ExitDiffers is diff-flows' exit status when the sources differ.
const ExitDiffers = 2

func (c *cli) diffFlows(args []string) error {
	a, err := c.readSource(args[0])
	if err != nil {
		return err
	}
	b, err := c.readSource(args[1])
	if err != nil {
		return err
	}
	keys := append([]string(nil), a.order...)
	for _, k := range b.order {
		if _, ok := a.byKey[k]; !ok {
			keys = append(keys, k)
		}
	}
	differ := false
	for _, k := range keys {
		va, vb := a.byKey[k], b.byKey[k]
		sa, sb := "", ""
		if va != nil {
			sa = va.format()
		}
		if vb != nil {
			sb = vb.format()
		}
		if sa == sb {
			continue
		}
		differ = true
		if va != nil {
			fmt.Fprintf(c.out, "-%s\n", sa)
		}
		if vb != nil {
			fmt.Fprintf(c.out, "+%s\n", sb)
		}
	}
	if differ {
		return &exitError{ExitDiffers, errSilent}
	}
	return nil
}
