package netctl

// The per-host agent (netctl agent --switch NAME), after ovn-controller.
//
// It keeps one switch in line with the model in etcd, without being asked:
//
//   - Model: it loads the model once and then follows etcd's watch from the
//     revision it loaded, applying each event to its own copy. After a
//     batch of events it recomputes its switch's wanted flows and programs
//     (Want) only if an event touched its share of the model (interest):
//     a switch, its own NICs, the NICs of its VNIs, the groups of its NICs,
//     and the members of the groups their rules name. Other batches only
//     advance the revision it has applied. A watch that falls behind
//     compaction reloads.
//   - Election: the agents of one switch campaign for PREFIX/agents/NAME
//     with a lease (AgentConfig.TTL). The winner's key revision is its
//     OpenFlow generation id: it connects, sends ROLE_REQUEST master with
//     it, which demotes any older master (a partitioned agent that still
//     holds a connection can no longer write), and becomes the switch's
//     only writer. The others wait with the model computed.
//   - Writing: on taking over, and on every (re)connection, it reads back
//     what the switch holds and applies the difference (Apply), so a
//     standby that takes over from a master that was up to date sends
//     nothing but its role request, and the switch forwards throughout: the
//     flows never leave it. Then each model change is applied from what it
//     last installed, without reading back.
//   - Failures: a lost connection (switchd restart) is redialled with
//     backoff and fully resynced; a lost lease or a refused role ends the
//     term: the agent closes its connection and campaigns again; a refused
//     change (OpenFlow error) drops what it remembers, so the next attempt
//     reads back.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/openflow"
)

// AgentConfig configures an agent.
type AgentConfig struct {
	Etcd   *Etcd
	Switch string // the switch (model name) the agent keeps
	// Target overrides the switch's target from the model (an agent
	// usually reaches its switch through the local management socket).
	Target string
	RunDir string // of bridge-name targets
	TLS    ofclient.Options
	ID     string // the agent's name in the election (default: switch name and a time)
	TTL    int    // lease, in seconds (default 2)
	Logger *slog.Logger
	// Apply, when set, replaces the switch: the agent hands it each
	// wanted state instead of connecting (control-plane benchmarks).
	Apply func(ctx context.Context, want Want) error
}

// Agent keeps one switch in line with the model.
type Agent struct {
	cfg AgentConfig
	log *slog.Logger

	mu      sync.Mutex
	want    *Want // latest wanted state, nil until the model is loaded
	wantRev int64 // model revision the agent has seen (want may be older: nothing of its share changed since)
	changed chan struct{}

	interest interest // owned by followModel

	leader     atomic.Bool
	appliedRev atomic.Int64 // model revision the switch last got
	applies    atomic.Int64 // successful applies
	resyncs    atomic.Int64 // full resyncs (take-over, reconnection)
	changes    atomic.Int64 // flow mods, map writes and program loads and unloads sent
	lastResult atomic.Pointer[SyncResult]
}

// NewAgent returns an agent; Run starts it.
func NewAgent(cfg AgentConfig) *Agent {
	if cfg.TTL <= 0 {
		cfg.TTL = 2
	}
	if cfg.ID == "" {
		cfg.ID = fmt.Sprintf("%s-%d", cfg.Switch, time.Now().UnixNano())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Agent{cfg: cfg, log: cfg.Logger.With("switch", cfg.Switch, "agent", cfg.ID), changed: make(chan struct{}, 1)}
}

// Leader reports whether the agent holds the switch now.
func (a *Agent) Leader() bool { return a.leader.Load() }

// AppliedRevision is the model revision the switch last received.
func (a *Agent) AppliedRevision() int64 { return a.appliedRev.Load() }

// AgentStats counts what an agent did.
type AgentStats struct {
	Applies int64 // successful applies
	Resyncs int64 // full resyncs: taking over, reconnecting
	Changes int64 // flow mods, map writes, program loads and unloads sent
	Last    SyncResult
}

// Stats returns what the agent did so far.
func (a *Agent) Stats() AgentStats {
	s := AgentStats{Applies: a.applies.Load(), Resyncs: a.resyncs.Load(), Changes: a.changes.Load()}
	if r := a.lastResult.Load(); r != nil {
		s.Last = *r
	}
	return s
}

// Run runs the agent until ctx ends, then resigns.
func (a *Agent) Run(ctx context.Context) error {
	modelErr := make(chan error, 1)
	go func() { modelErr <- a.followModel(ctx) }()
	for {
		err := a.term(ctx)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case err := <-modelErr:
			return err
		default:
		}
		a.log.Warn("term ended", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// followModel loads the model and follows the watch, publishing each
// batch's wanted state.
func (a *Agent) followModel(ctx context.Context) error {
	for ctx.Err() == nil {
		// Each attempt has a deadline: the client waits for an etcd that is
		// not there rather than failing, and the log must say so.
		lctx, lcancel := context.WithTimeout(ctx, EtcdDialTimeout)
		resp, err := a.cfg.Etcd.Client.Get(lctx, a.cfg.Etcd.Prefix, clientv3.WithPrefix())
		err = a.cfg.Etcd.wrap(lctx, err)
		lcancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.log.Warn("loading the model; retrying", "err", err)
			time.Sleep(500 * time.Millisecond)
			continue
		}
		st := newState()
		for _, kv := range resp.Kvs {
			if err := st.apply(strings.TrimPrefix(string(kv.Key), a.cfg.Etcd.Prefix), kv.Value); err != nil {
				a.log.Warn("model", "err", err)
			}
		}
		st.upgrade()
		rev := resp.Header.Revision
		a.publish(st, rev, true)
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := a.cfg.Etcd.Client.Watch(wctx, a.cfg.Etcd.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for wr := range wch {
			if err := wr.Err(); err != nil {
				a.log.Warn("watch", "err", err)
				break
			}
			touched := false
			for _, ev := range wr.Events {
				var v []byte
				if ev.Type == clientv3.EventTypePut {
					v = ev.Kv.Value
				}
				key := strings.TrimPrefix(string(ev.Kv.Key), a.cfg.Etcd.Prefix)
				touched = touched || a.interest.touches(st, key) // the old version
				if err := st.apply(key, v); err != nil {
					a.log.Warn("model", "err", err)
				}
				touched = touched || a.interest.touches(st, key) // the new one
			}
			st.upgrade()
			a.publish(st, wr.Header.Revision, touched)
		}
		cancel()
	}
	return nil
}

func (a *Agent) publish(st *State, rev int64, recompute bool) {
	var w *Want
	if recompute {
		want := st.Want(a.cfg.Switch)
		w = &want
		a.interest = interestOf(st, a.cfg.Switch)
	}
	a.mu.Lock()
	if w != nil {
		a.want = w
	}
	a.wantRev = rev
	a.mu.Unlock()
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

func (a *Agent) current() (*Want, int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.want, a.wantRev
}

// term is one leadership: campaign, then keep the switch until the lease,
// the role or ctx is lost.
func (a *Agent) term(ctx context.Context) error {
	sess, err := concurrency.NewSession(a.cfg.Etcd.Client, concurrency.WithTTL(a.cfg.TTL), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("etcd session: %w", err)
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, a.cfg.Etcd.Prefix+"agents/"+a.cfg.Switch)
	if err := el.Campaign(ctx, a.cfg.ID); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	gen := uint64(el.Rev())
	a.log.Info("leading", "generation", gen)
	a.leader.Store(true)
	defer a.leader.Store(false)
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), time.Second)
		el.Resign(rctx)
		cancel()
	}()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-tctx.Done():
		}
	}()
	if a.cfg.Apply != nil {
		return a.keepFunc(tctx)
	}
	backoff := 100 * time.Millisecond
	for tctx.Err() == nil {
		err := a.keepSwitch(tctx, gen)
		var stale *staleError
		if errors.As(err, &stale) {
			return err
		}
		if tctx.Err() != nil {
			break
		}
		a.log.Warn("switch", "err", err)
		select {
		case <-tctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
	select {
	case <-sess.Done():
		return errors.New("lease lost")
	default:
	}
	return tctx.Err()
}

// staleError is a role request the switch refused: a newer master holds it.
type staleError struct{ err error }

func (e *staleError) Error() string { return "a newer master holds the switch: " + e.err.Error() }

func (a *Agent) target(ctx context.Context) (string, error) {
	if a.cfg.Target != "" {
		return a.cfg.Target, nil
	}
	ctx, cancel := context.WithTimeout(ctx, EtcdDialTimeout)
	defer cancel()
	st, err := a.cfg.Etcd.Load(ctx)
	if err != nil {
		return "", err
	}
	sw := st.Switches[a.cfg.Switch]
	if sw == nil {
		return "", fmt.Errorf("switch %q is not in the model", a.cfg.Switch)
	}
	return sw.Target, nil
}

// keepSwitch is one connection: role, full resync, then incremental
// applies until something fails.
func (a *Agent) keepSwitch(ctx context.Context, gen uint64) error {
	want, _ := a.current()
	for want == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.changed:
		}
		want, _ = a.current()
	}
	target, err := a.target(ctx)
	if err != nil {
		return err
	}
	opt := a.cfg.TLS
	opt.RunDir = a.cfg.RunDir
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	c, err := ofclient.Connect(dctx, target, opt)
	dcancel()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetWriteDeadline(time.Time{})
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	_, _, err = c.Request(rctx, &openflow.RoleRequest{RoleMsg: openflow.RoleMsg{Role: openflow.RoleMaster, GenerationID: gen}})
	rcancel()
	if err != nil {
		var se *ofclient.SwitchError
		if errors.As(err, &se) && se.Msg.Code == openflow.RRFCStale {
			return &staleError{err}
		}
		return fmt.Errorf("role request: %w", err)
	}
	var installed *Installed
	var applied *Want
	first := true
	for {
		want, rev := a.current()
		if want == applied && installed != nil {
			// Nothing of the switch's share changed: only the revision.
			a.appliedRev.Store(rev)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-c.Done():
				return errors.New("switch connection closed")
			case <-a.changed:
			}
			continue
		}
		actx, acancel := context.WithTimeout(ctx, 30*time.Second)
		res, now, err := Apply(actx, c, a.cfg.Switch, *want, installed)
		acancel()
		if err != nil {
			return err
		}
		installed, applied = now, want
		a.applies.Add(1)
		a.changes.Add(int64(res.Added + res.Deleted + res.MapWrites + res.Loaded + res.Unloaded))
		if first {
			a.resyncs.Add(1)
			a.log.Info("resynced", "flows", res.Total, "added", res.Added, "deleted", res.Deleted,
				"programs", res.Programs, "loaded", res.Loaded, "map_writes", res.MapWrites, "revision", rev)
			first = false
		} else if res.Added+res.Deleted+res.MapWrites+res.Loaded+res.Unloaded > 0 {
			a.log.Info("applied", "added", res.Added, "deleted", res.Deleted, "map_writes", res.MapWrites, "revision", rev)
		}
		a.lastResult.Store(&res)
		a.appliedRev.Store(rev)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.Done():
			return errors.New("switch connection closed")
		case <-a.changed:
			// Let a burst of events settle into one apply.
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// keepFunc hands each new wanted state to cfg.Apply.
func (a *Agent) keepFunc(ctx context.Context) error {
	var applied *Want
	for {
		want, rev := a.current()
		if want != nil && want != applied {
			if err := a.cfg.Apply(ctx, *want); err != nil {
				return err
			}
			applied = want
			a.applies.Add(1)
		}
		if want != nil {
			a.appliedRev.Store(rev)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.changed:
		}
	}
}

// interest is an agent's share of the model: the keys whose change can
// change its switch's wanted state.
type interest struct {
	sw      string
	vnis    map[uint32]bool // VNIs of the switch's NICs
	groups  map[string]bool // groups of its NICs, and groups their rules name
	members map[string]bool // groups whose members' addresses its rules use
}

func interestOf(st *State, sw string) interest {
	in := interest{sw: sw, vnis: map[uint32]bool{}, groups: map[string]bool{}, members: map[string]bool{}}
	for _, n := range st.NICs {
		if n.Switch != sw {
			continue
		}
		in.vnis[n.VNI] = true
		for _, g := range n.SGs {
			in.groups[g] = true
			if sg := st.SGs[g]; sg != nil {
				for _, r := range sg.Rules {
					if r.Members != "" {
						in.members[r.Members] = true
						in.groups[r.Members] = true
					}
				}
			}
		}
	}
	return in
}

// touches reports whether the object at key, as st holds it now, is in
// the share (called with the state before and after an event, so that an
// object leaving the share counts too). Switches always count: they are
// few and change rarely. The meta key (zone counter, format) and the
// agents' election keys (PREFIX/agents/) never do.
func (in interest) touches(st *State, key string) bool {
	switch {
	case strings.HasPrefix(key, kindNIC):
		n := st.NICs[key[len(kindNIC):]]
		if n == nil {
			return false
		}
		if n.Switch == in.sw || in.vnis[n.VNI] {
			return true
		}
		for _, g := range n.SGs {
			if in.members[g] {
				return true
			}
		}
		return false
	case strings.HasPrefix(key, kindSG):
		return in.groups[key[len(kindSG):]]
	case strings.HasPrefix(key, kindSwitch):
		return true
	}
	return false // meta, the agents' election keys
}
