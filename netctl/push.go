package netctl

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/goko-net/goko/ctl"
	"github.com/goko-net/goko/openflow"
)

// SyncResult says what a sync changed on one switch.
type SyncResult struct {
	Switch           string
	Added, Deleted   int // flows added or replaced, flows deleted
	Unchanged, Total int
}

// Sync makes switch name's netctl flows (those with Cookie) exactly
// st.Flows(name): it reads them back, deletes the ones not wanted, adds
// the missing or changed ones, and waits for a barrier. Flows that are
// already right are not touched, so a sync with nothing to do changes
// nothing, and the operation is idempotent. runDir resolves bridge-name
// targets.
func Sync(ctx context.Context, st *State, name, runDir string) (SyncResult, error) {
	res := SyncResult{Switch: name}
	sw := st.Switches[name]
	if sw == nil {
		return res, fmt.Errorf("switch %q is not known", name)
	}
	t, err := ctl.ParseTarget(sw.Target, runDir)
	if err != nil {
		return res, fmt.Errorf("switch %s: %w", name, err)
	}
	c, err := ctl.Dial(ctx, t.Network, t.Addr)
	if err != nil {
		return res, fmt.Errorf("switch %s (%s): %w", name, sw.Target, err)
	}
	defer c.Close()

	bodies, _, err := c.Multipart(ctx, &openflow.FlowStatsRequest{TableID: openflow.TableAll, OutPort: openflow.PortAny,
		OutGroup: openflow.GroupAny, Cookie: Cookie, CookieMask: ^uint64(0)})
	if err != nil {
		return res, fmt.Errorf("switch %s: reading flows: %w", name, err)
	}
	var stats []openflow.FlowStats
	for _, b := range bodies {
		if r, ok := b.(*openflow.FlowStatsReply); ok {
			stats = append(stats, r.Stats...)
		}
	}
	have := map[string]string{} // flow key -> instructions
	haveFlows := map[string]openflow.FlowStats{}
	for _, fs := range stats {
		k := flowKey(fs.TableID, fs.Priority, &fs.Match)
		have[k] = instrKey(fs.Instructions)
		haveFlows[k] = fs
	}
	want := st.Flows(name)
	res.Total = len(want)
	wanted := map[string]bool{}
	for _, f := range want {
		k := flowKey(f.Table, f.Priority, &f.Match)
		wanted[k] = true
		if ins, ok := have[k]; ok && ins == instrKey(f.Instructions) {
			res.Unchanged++
			continue
		}
		if _, err := c.Send(&openflow.FlowMod{Cookie: Cookie, TableID: f.Table, Command: openflow.FlowAdd,
			Priority: f.Priority, BufferID: openflow.NoBuffer, OutPort: openflow.PortAny, OutGroup: openflow.GroupAny,
			Match: f.Match, Instructions: f.Instructions}); err != nil {
			return res, fmt.Errorf("switch %s: %w", name, err)
		}
		res.Added++
	}
	var stale []string
	for k := range haveFlows {
		if !wanted[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	for _, k := range stale {
		fs := haveFlows[k]
		if _, err := c.Send(&openflow.FlowMod{Cookie: Cookie, CookieMask: ^uint64(0), TableID: fs.TableID,
			Command: openflow.FlowDeleteStrict, Priority: fs.Priority, BufferID: openflow.NoBuffer,
			OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Match: fs.Match}); err != nil {
			return res, fmt.Errorf("switch %s: %w", name, err)
		}
		res.Deleted++
	}
	refused, err := c.Barrier(ctx)
	if err != nil {
		return res, fmt.Errorf("switch %s: %w", name, err)
	}
	if len(refused) > 0 {
		var errs []string
		for _, e := range refused {
			errs = append(errs, ctl.ErrorName(e.Msg))
		}
		return res, fmt.Errorf("switch %s refused %d flow-mods: %s", name, len(errs), strings.Join(errs, "; "))
	}
	return res, nil
}

// Affected returns the switches whose flows differ between before and
// after, sorted.
func Affected(before, after *State) []string {
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
		if !sameFlows(before.Flows(n), after.Flows(n)) || before.Switches[n] == nil ||
			*before.Switches[n] != *after.Switches[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func sameFlows(a, b []Flow) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[string]string{}
	for _, f := range a {
		set[flowKey(f.Table, f.Priority, &f.Match)] = instrKey(f.Instructions)
	}
	for _, f := range b {
		if ins, ok := set[flowKey(f.Table, f.Priority, &f.Match)]; !ok || ins != instrKey(f.Instructions) {
			return false
		}
	}
	return true
}

// SyncAll syncs the named switches and joins their errors.
func SyncAll(ctx context.Context, st *State, names []string, runDir string) ([]SyncResult, error) {
	var results []SyncResult
	var errs []error
	for _, n := range names {
		r, err := Sync(ctx, st, n, runDir)
		results = append(results, r)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}
