package netctl

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/goko-net/goko/ofclient"
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
	c, err := ofclient.Connect(ctx, sw.Target, ofclient.Options{RunDir: runDir})
	if err != nil {
		return res, fmt.Errorf("switch %s: %w", name, err)
	}
	defer c.Close()
	return SyncConn(ctx, c, name, st.Flows(name))
}

// SyncConn makes the netctl flows (those with Cookie) on the switch at c
// exactly want, with the fewest flow mods, and waits for a barrier.
func SyncConn(ctx context.Context, c *ofclient.Conn, name string, want []Flow) (SyncResult, error) {
	res := SyncResult{Switch: name, Total: len(want)}
	bodies, _, err := c.Multipart(ctx, &openflow.FlowStatsRequest{TableID: openflow.TableAll, OutPort: openflow.PortAny,
		OutGroup: openflow.GroupAny, Cookie: Cookie, CookieMask: ^uint64(0)})
	if err != nil {
		return res, fmt.Errorf("switch %s: reading flows: %w", name, err)
	}
	var have []ofclient.Flow
	for _, b := range bodies {
		if r, ok := b.(*openflow.FlowStatsReply); ok {
			for i := range r.Stats {
				have = append(have, ofclient.FlowFromStats(&r.Stats[i]))
			}
		}
	}
	wantFlows := make([]ofclient.Flow, len(want))
	for i, f := range want {
		wantFlows[i] = f.clientFlow()
	}
	ch := ofclient.Diff(have, wantFlows, false)
	res.Unchanged = ch.Same
	for _, j := range ch.Add {
		if _, err := c.Send(wantFlows[j].AddMod()); err != nil {
			return res, fmt.Errorf("switch %s: %w", name, err)
		}
		res.Added++
	}
	for _, i := range ch.Delete {
		fm := have[i].DeleteMod()
		fm.Cookie, fm.CookieMask = Cookie, ^uint64(0)
		if _, err := c.Send(fm); err != nil {
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
			errs = append(errs, ofclient.ErrorName(e.Msg))
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
	fa, fb := make([]ofclient.Flow, len(a)), make([]ofclient.Flow, len(b))
	for i := range a {
		fa[i] = a[i].clientFlow()
	}
	for i := range b {
		fb[i] = b[i].clientFlow()
	}
	return ofclient.Diff(fa, fb, false).Empty()
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
