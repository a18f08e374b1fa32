package ofproto

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/openflow"
)

// guardedFields are the fields of bridge state that translation reads:
// they may be written only by methods of *txn (change.go).
var guardedFields = map[string]bool{
	"tables": true, "groups": true, "meters": true, "ports": true, "portList": true,
	"config": true, "linkUp": true, "switchFlags": true, "instructions": true,
	"stats": true, "progs": true, "prog": true,
}

// tableMutators are flowTable's methods that change a table.
var tableMutators = map[string]bool{"insert": true, "replace": true, "removeIf": true, "applyRemove": true}

// TestStateChangesGoThroughUpdate checks the rule of change.go on the
// package's source: bridge state is written only inside methods of *txn,
// flow tables are changed only through them, and only Bridge.update makes
// a txn. A change that bypasses update could not invalidate the datapath.
func TestStateChangesGoThroughUpdate(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			inTxn := fd.Recv != nil && recvType(fd) == "txn"
			// flowTable's own methods implement the mutators.
			inTable := fd.Recv != nil && recvType(fd) == "flowTable"
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if n == nil {
					return false
				}
				where := fset.Position(n.Pos())
				switch n := n.(type) {
				case *ast.AssignStmt:
					if n.Tok == token.DEFINE {
						return true
					}
					for _, lhs := range n.Lhs {
						if fld := guardedRoot(lhs); fld != "" && !inTxn {
							t.Errorf("%s: %s writes %s outside a txn method", where, fd.Name.Name, fld)
						}
						checked++
					}
				case *ast.IncDecStmt:
					if fld := guardedRoot(n.X); fld != "" && !inTxn {
						t.Errorf("%s: %s writes %s outside a txn method", where, fd.Name.Name, fld)
					}
				case *ast.CallExpr:
					switch fun := n.Fun.(type) {
					case *ast.Ident:
						if fun.Name == "delete" && len(n.Args) > 0 {
							if fld := guardedRoot(n.Args[0]); fld != "" && !inTxn {
								t.Errorf("%s: %s deletes from %s outside a txn method", where, fd.Name.Name, fld)
							}
						}
					case *ast.SelectorExpr:
						m := fun.Sel.Name
						if (m == "Store" || m == "Swap" || m == "Add" || m == "CompareAndSwap") && !inTxn {
							if sel, ok := fun.X.(*ast.SelectorExpr); ok && guardedFields[sel.Sel.Name] {
								fld := sel.Sel.Name
								t.Errorf("%s: %s writes %s outside a txn method", where, fd.Name.Name, fld)
							}
						}
						if tableMutators[m] && !inTxn && !inTable && !isIdent(fun.X, "tx") && mentionsTable(fun.X) {
							t.Errorf("%s: %s changes a flow table outside a txn method", where, fd.Name.Name)
						}
					}
				case *ast.CompositeLit:
					if id, ok := n.Type.(*ast.Ident); ok && id.Name == "txn" && fd.Name.Name != "update" {
						t.Errorf("%s: %s makes a txn; only Bridge.update may", where, fd.Name.Name)
					}
				}
				return true
			})
		}
	}
	if checked < 50 {
		t.Fatalf("only %d assignments checked: is the source there?", checked)
	}
}

func recvType(fd *ast.FuncDecl) string {
	typ := fd.Recv.List[0].Type
	if st, ok := typ.(*ast.StarExpr); ok {
		typ = st.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// guardedRoot returns the guarded field an lvalue writes into (b.groups[id],
// p.config, b.tables[t].rules), or "".
func guardedRoot(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.SelectorExpr:
			if guardedFields[x.Sel.Name] {
				return x.Sel.Name
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return ""
		}
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// mentionsTable reports whether e looks like a flow table: b.tables[i],
// &b.tables[i], or a variable named t or tbl.
func mentionsTable(e ast.Expr) bool {
	if guardedRoot(e) == "tables" {
		return true
	}
	return isIdent(e, "t") || isIdent(e, "tbl")
}

// TestEveryChangeReachesTheCache changes each kind of state a translation
// reads, after a packet has put a megaflow in the datapath cache, and
// checks that after the change and a barrier the next packet of the same
// flow follows the new state, not the cached decision.
func TestEveryChangeReachesTheCache(t *testing.T) {
	msg := func(ms ...openflow.Message) func(*testSwitch) []openflow.Message {
		return func(*testSwitch) []openflow.Message { return ms }
	}
	inPort1 := openflow.NewMatch(openflow.OXMInPortVal(1))
	fragment := func() []byte {
		f := frame(2, 17, 53)
		f[20] = 0x20 // more fragments
		return f
	}
	ffBucket := func(watch, port uint32) openflow.Bucket {
		return openflow.Bucket{WatchPort: watch, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(port)}}
	}
	hardTimeout := addFlow(10, inPort1, output(2))
	hardTimeout.HardTimeout = 1
	for _, tc := range []struct {
		name   string
		ports  int
		setup  []openflow.Message
		pkt    func() []byte
		before uint32 // where the packet goes first (0: nowhere)
		change func(*testSwitch) []openflow.Message
		after  uint32
		also   uint32 // another port the packet goes to after the change
	}{
		{name: "flow add", setup: []openflow.Message{addFlow(1, inPort1, output(2))},
			before: 2, change: msg(addFlow(10, inPort1, output(3))), after: 3},
		{name: "flow modify", setup: []openflow.Message{addFlow(1, inPort1, output(2))}, before: 2,
			change: msg(&openflow.FlowMod{Command: openflow.FlowModify, TableID: 0, BufferID: openflow.NoBuffer,
				OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Match: inPort1, Instructions: output(3)}), after: 3},
		{name: "flow delete", setup: []openflow.Message{addFlow(10, inPort1, output(2)), addFlow(1, openflow.Match{}, output(3))}, before: 2,
			change: msg(&openflow.FlowMod{Command: openflow.FlowDeleteStrict, Priority: 10, BufferID: openflow.NoBuffer,
				OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Match: inPort1}), after: 3},
		{name: "group modify", setup: []openflow.Message{groupAdd(1, openflow.GroupTypeIndirect, bucket(out(2))), addFlow(1, inPort1, toGroup(1))},
			before: 2, change: msg(&openflow.GroupMod{Command: openflow.GroupModify, GroupType: openflow.GroupTypeIndirect, GroupID: 1,
				Buckets: []openflow.Bucket{bucket(out(3))}}), after: 3},
		{name: "group delete", setup: []openflow.Message{groupAdd(1, openflow.GroupTypeIndirect, bucket(out(2))),
			addFlow(10, inPort1, toGroup(1)), addFlow(1, openflow.Match{}, output(3))},
			before: 2, change: msg(&openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 1}), after: 3},
		{name: "meter delete", setup: []openflow.Message{meterAdd(1, openflow.MeterFlagPktps, openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 1e6}),
			addFlow(10, inPort1, ins(openflow.InstMeter{MeterID: 1}, apply(out(2)))), addFlow(1, openflow.Match{}, output(3))},
			before: 2, change: msg(&openflow.MeterMod{Command: openflow.MeterDelete, MeterID: 1}), after: 3},
		{name: "port mod", setup: []openflow.Message{addFlow(1, inPort1, output(2))}, before: 2,
			change: func(ts *testSwitch) []openflow.Message {
				mac := ts.ports[2].Info().HWAddr
				return []openflow.Message{&openflow.PortMod{PortNo: 2, HWAddr: [6]byte(mac), Config: openflow.PortConfigNoFwd, Mask: openflow.PortConfigNoFwd}}
			}, after: 0},
		{name: "set config", setup: []openflow.Message{addFlow(1, inPort1, output(2))}, pkt: fragment, before: 2,
			change: msg(&openflow.SetConfig{SwitchConfig: openflow.SwitchConfig{Flags: openflow.FragDrop, MissSendLen: 128}}), after: 0},
		{name: "link down", setup: []openflow.Message{groupAdd(1, openflow.GroupTypeFF, ffBucket(2, 2), ffBucket(3, 3)), addFlow(1, inPort1, toGroup(1))},
			before: 2, change: func(ts *testSwitch) []openflow.Message {
				ts.ports[2].SetLink(false)
				ts.b.checkLinks()
				return nil
			}, after: 3},
		{name: "expiry", setup: []openflow.Message{hardTimeout, addFlow(1, openflow.Match{}, output(3))},
			before: 2, change: func(ts *testSwitch) []openflow.Message {
				ts.b.expireFlows(time.Now().Add(2 * time.Second))
				return nil
			}, after: 3},
		{name: "port add", ports: 2, setup: []openflow.Message{addFlow(1, inPort1, output(openflow.PortFlood))},
			before: 2, change: func(ts *testSwitch) []openflow.Message {
				p := memport.New("p3")
				if _, err := ts.b.AddPort(3, p); err != nil {
					t.Fatal(err)
				}
				ts.ports[3] = p
				return nil
			}, after: 2, also: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.ports
			if n == 0 {
				n = 3
			}
			ts := newTestSwitch(t, n)
			for _, m := range tc.setup {
				if c := ts.errOf(m); c != 0 {
					t.Fatalf("setup %T rejected: %v", m, c)
				}
			}
			pkt := tc.pkt
			if pkt == nil {
				pkt = func() []byte { return frame(2, 17, 53) }
			}
			expect := func(when string, want ...uint32) {
				t.Helper()
				ts.ports[1].Inject(pkt())
				for _, no := range want {
					if no == 0 {
						continue
					}
					if _, ok := ts.ports[no].Receive(2 * time.Second); !ok {
						t.Fatalf("%s: packet not on port %d", when, no)
					}
				}
				for no, p := range ts.ports {
					if _, ok := p.Receive(50 * time.Millisecond); ok {
						t.Fatalf("%s: packet on port %d, want %v", when, no, want)
					}
				}
			}
			expect("before", tc.before)
			expect("cached", tc.before)
			for _, m := range tc.change(ts) {
				if c := ts.errOf(m); c != 0 {
					t.Fatalf("change %T rejected: %v", m, c)
				}
			}
			ts.request(&openflow.BarrierRequest{}) // what a controller does
			if tc.also != 0 {
				expect("after", tc.after, tc.also)
			} else {
				expect("after", tc.after)
			}
		})
	}
}
