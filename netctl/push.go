package netctl

// Pushing a switch's wanted state with the fewest changes.
//
// What netctl owns on a switch: the flows with its cookie, and the filter
// programs in its range (isSGProg) with their maps. Apply turns what the
// switch holds (read back, or remembered from the last successful apply on
// the same connection) into what is wanted, in an order that never opens
// a hole:
//
//  1. load the programs that are missing (and wait: flows may name them);
//  2. per program, write new and changed map entries, shapes first (a
//     class's shapes exist before a remote entry points to it), then
//     delete stale entries, remote entries first;
//  3. add the missing or changed flows, then delete the stale ones;
//  4. unload the programs no longer wanted (no flow names them any more);
//  5. one barrier, which also collects the switch's refusals.
//
// A switch processes one connection's messages in order, so each step
// sees the previous ones done.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/goko-net/goko/netctl/sgprog"
	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/openflow"
)

// SyncResult says what a sync changed on one switch.
type SyncResult struct {
	Switch           string
	Added, Deleted   int // flows added or replaced, flows deleted
	Unchanged, Total int
	Loaded, Unloaded int // sg programs
	MapWrites        int // map entries written or deleted
	Programs         int // sg programs wanted
}

// Want is what netctl wants on one switch.
type Want struct {
	Flows    []Flow
	Programs map[uint32]Maps // sg program id -> its maps
}

// Want returns what switch name must hold.
func (st *State) Want(name string) Want {
	ix := st.index()
	return Want{Flows: ix.flows(name), Programs: ix.programs(name)}
}

// Installed is what a switch holds of netctl's, as Apply last left it.
type Installed struct {
	Flows    []ofclient.Flow
	Programs map[uint32]Maps
}

// Sync makes switch name hold exactly st's wanted flows and programs,
// reading back what it holds first. Things that are already right are not
// touched, so a sync with nothing to do changes nothing. opt resolves
// bridge-name targets and holds the TLS configuration of ssl: ones.
func Sync(ctx context.Context, st *State, name string, opt ofclient.Options) (SyncResult, error) {
	res := SyncResult{Switch: name}
	sw := st.Switches[name]
	if sw == nil {
		return res, fmt.Errorf("switch %q is not known", name)
	}
	c, err := ofclient.Connect(ctx, sw.Target, opt)
	if err != nil {
		return res, fmt.Errorf("switch %s: %w", name, err)
	}
	defer c.Close()
	res, _, err = Apply(ctx, c, name, st.Want(name), nil)
	return res, err
}

// ReadInstalled reads back what the switch at c holds of netctl's.
func ReadInstalled(ctx context.Context, c *ofclient.Conn) (*Installed, error) {
	bodies, _, err := c.Multipart(ctx, &openflow.FlowStatsRequest{TableID: openflow.TableAll, OutPort: openflow.PortAny,
		OutGroup: openflow.GroupAny, Cookie: Cookie, CookieMask: ^uint64(0)})
	if err != nil {
		return nil, fmt.Errorf("reading flows: %w", err)
	}
	in := &Installed{Programs: map[uint32]Maps{}}
	for _, b := range bodies {
		if r, ok := b.(*openflow.FlowStatsReply); ok {
			for i := range r.Stats {
				in.Flows = append(in.Flows, ofclient.FlowFromStats(&r.Stats[i]))
			}
		}
	}
	progs, err := c.FilterProgs(ctx, openflow.GokoAllProgs)
	if err != nil {
		return nil, fmt.Errorf("reading filter programs: %w", err)
	}
	for _, p := range progs {
		if !isSGProg(p.ProgID) {
			continue
		}
		maps := Maps{}
		for _, m := range p.Maps {
			entries, err := c.DumpMap(ctx, p.ProgID, m.Name)
			if err != nil {
				return nil, fmt.Errorf("reading map %s of program %d: %w", m.Name, p.ProgID, err)
			}
			maps[m.Name] = map[string]string{}
			for _, e := range entries {
				maps[m.Name][string(e.Key)] = string(e.Value)
			}
		}
		in.Programs[p.ProgID] = maps
	}
	return in, nil
}

// mapOrder is the order maps are written in (deletes go in reverse).
var mapOrder = []string{sgprog.MapShapes, sgprog.MapNIC, sgprog.MapRemote4, sgprog.MapRemote6}

// Apply makes the switch at c hold want, starting from have (nil: read it
// back first), and returns what it did and what the switch now holds. On
// an error, the returned Installed is nil: the next Apply must read back.
func Apply(ctx context.Context, c *ofclient.Conn, name string, want Want, have *Installed) (SyncResult, *Installed, error) {
	res := SyncResult{Switch: name, Total: len(want.Flows), Programs: len(want.Programs)}
	fail := func(err error) (SyncResult, *Installed, error) {
		return res, nil, fmt.Errorf("switch %s: %w", name, err)
	}
	if have == nil {
		var err error
		if have, err = ReadInstalled(ctx, c); err != nil {
			return fail(err)
		}
	}
	now := &Installed{Programs: map[uint32]Maps{}}

	// 1. Missing programs.
	ids := sortedIDs(want.Programs)
	var loads []uint32
	for _, id := range ids {
		if _, ok := have.Programs[id]; ok {
			continue
		}
		xids, err := c.SendLoadFilterProg(id, sgprog.Program, sgprog.Object, 0)
		if err != nil {
			return fail(err)
		}
		loads = append(loads, xids...)
		res.Loaded++
	}
	if len(loads) > 0 {
		_, errs, err := c.Transact(ctx, loads)
		if err != nil {
			return fail(err)
		}
		if len(errs) > 0 {
			return fail(fmt.Errorf("loading sg programs: %s", errs[0]))
		}
	}

	// 2. Maps.
	for _, id := range ids {
		old := have.Programs[id]
		if old == nil {
			old = Maps{}
		}
		for _, m := range mapOrder {
			for _, k := range sortedKeys(want.Programs[id][m]) {
				v := want.Programs[id][m][k]
				if ov, ok := old[m][k]; ok && ov == v {
					continue
				}
				if _, err := c.SendMapUpdate(id, m, []byte(k), []byte(v), openflow.GokoMapAny); err != nil {
					return fail(err)
				}
				res.MapWrites++
			}
		}
		for i := len(mapOrder) - 1; i >= 0; i-- {
			m := mapOrder[i]
			for _, k := range sortedKeys(old[m]) {
				if _, ok := want.Programs[id][m][k]; ok {
					continue
				}
				if _, err := c.SendMapUpdate(id, m, []byte(k), nil, 0); err != nil {
					return fail(err)
				}
				res.MapWrites++
			}
		}
		now.Programs[id] = want.Programs[id]
	}

	// 3. Flows.
	wantFlows := make([]ofclient.Flow, len(want.Flows))
	for i, f := range want.Flows {
		wantFlows[i] = f.clientFlow()
	}
	ch := ofclient.Diff(have.Flows, wantFlows, false)
	res.Unchanged = ch.Same
	for _, j := range ch.Add {
		if _, err := c.Send(wantFlows[j].AddMod()); err != nil {
			return fail(err)
		}
		res.Added++
	}
	for _, i := range ch.Delete {
		fm := have.Flows[i].DeleteMod()
		fm.Cookie, fm.CookieMask = Cookie, ^uint64(0)
		if _, err := c.Send(fm); err != nil {
			return fail(err)
		}
		res.Deleted++
	}
	now.Flows = wantFlows

	// 4. Programs no longer wanted.
	for _, id := range sortedIDs(have.Programs) {
		if _, ok := want.Programs[id]; ok {
			continue
		}
		if _, err := c.Send(ofclient.GokoMessage(openflow.GokoUnloadFilterProg, (&openflow.GokoProgRef{ProgID: id}).Marshal())); err != nil {
			return fail(err)
		}
		res.Unloaded++
	}

	// 5. Barrier.
	refused, err := c.Barrier(ctx)
	if err != nil {
		return fail(err)
	}
	if len(refused) > 0 {
		var errs []string
		for _, e := range refused {
			errs = append(errs, ofclient.ErrorName(e.Msg))
		}
		return res, nil, fmt.Errorf("switch %s refused %d changes: %s", name, len(errs), strings.Join(errs, "; "))
	}
	return res, now, nil
}

func sortedIDs[V any](m map[uint32]V) []uint32 {
	out := make([]uint32, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Affected returns the switches whose wanted state differs between before
// and after, sorted.
func Affected(before, after *State) []string {
	bix, aix := before.index(), after.index()
	names := map[string]bool{}
	for n := range before.Switches {
		names[n] = true
	}
	for n := range after.Switches {
		names[n] = true
	}
	var out []string
	for n := range names {
		if after.Switches[n] == nil {
			continue // removed: nothing to program
		}
		if before.Switches[n] == nil || *before.Switches[n] != *after.Switches[n] ||
			!sameFlows(bix.flows(n), aix.flows(n)) || !samePrograms(bix.programs(n), aix.programs(n)) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func sameFlows(a, b []Flow) bool {
	fa, fb := make([]ofclient.Flow, len(a)), make([]ofclient.Flow, len(b))
	for i := range a {
		fa[i] = a[i].clientFlow()
	}
	for i := range b {
		fb[i] = b[i].clientFlow()
	}
	return ofclient.Diff(fa, fb, false).Empty()
}

func samePrograms(a, b map[uint32]Maps) bool {
	if len(a) != len(b) {
		return false
	}
	for id, ma := range a {
		mb, ok := b[id]
		if !ok || len(ma) != len(mb) {
			return false
		}
		for name, ea := range ma {
			eb := mb[name]
			if len(ea) != len(eb) {
				return false
			}
			for k, v := range ea {
				if w, ok := eb[k]; !ok || w != v {
					return false
				}
			}
		}
	}
	return true
}

// SyncAll syncs the named switches and joins their errors.
func SyncAll(ctx context.Context, st *State, names []string, opt ofclient.Options) ([]SyncResult, error) {
	var results []SyncResult
	var errs []error
	for _, n := range names {
		r, err := Sync(ctx, st, n, opt)
		results = append(results, r)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}
