package netctl

// Where the model lives.
//
// Two backends behind one interface. The JSON file (Open, Save) is the
// single-machine default, locked while a command runs. etcd is the shared,
// replicated store of a cloud: one key per object under a prefix
//
//	PREFIX/switches/NAME   PREFIX/nics/ID   PREFIX/sgs/ID   (JSON of the object)
//	PREFIX/meta            (next zone, format version, write generation)
//
// so that agents can watch it and a change touches only its own keys.
//
// Writes are optimistic transactions: Update reads the model at a revision,
// runs the change on it, and commits the keys that differ only if the meta
// key is still at the revision it read. Every write rewrites meta, so two
// operators that change the model at once cannot both commit against the
// same model: the second one's transaction fails, and Update runs its change
// again on the model that includes the first one's. A change that checks the
// whole model (an address free in its VNI, a group that exists) therefore
// always checks it against the model it commits into.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Backend keeps the model.
type Backend interface {
	// Load returns the current model.
	Load(ctx context.Context) (*State, error)
	// Update runs fn on the current model and saves the result, returning
	// the model before and after. fn may run more than once (etcd: after
	// a conflicting write), each time on a fresh model.
	Update(ctx context.Context, fn func(*State) error) (before, after *State, err error)
	// Replace saves st as the whole model (import).
	Replace(ctx context.Context, st *State) error
	Close() error
}

// FileBackend is the JSON state file. Each Load or Update takes the file's
// lock for its own duration.
type FileBackend struct{ Path string }

// Load reads the file.
func (f FileBackend) Load(context.Context) (*State, error) {
	s, st, err := Open(f.Path)
	if err != nil {
		return nil, err
	}
	s.Close()
	return st, nil
}

// Update changes the file under its lock.
func (f FileBackend) Update(_ context.Context, fn func(*State) error) (*State, *State, error) {
	s, st, err := Open(f.Path)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	before := st.Clone()
	if err := fn(st); err != nil {
		return nil, nil, err
	}
	if err := s.Save(st); err != nil {
		return nil, nil, err
	}
	return before, st, nil
}

// Replace writes st as the file.
func (f FileBackend) Replace(_ context.Context, st *State) error {
	s, _, err := Open(f.Path)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Save(st)
}

// Close does nothing: the file is not held open.
func (FileBackend) Close() error { return nil }

// DefaultPrefix is the etcd key prefix of the model.
const DefaultPrefix = "/goko/netctl/"

// Etcd is the model in etcd.
type Etcd struct {
	Client    *clientv3.Client
	Prefix    string // ends with '/'
	Endpoints string // as given to DialEtcd, for errors
}

// EtcdDialTimeout bounds the wait for an etcd that does not answer (Check,
// an agent's attempts to load the model).
const EtcdDialTimeout = 5 * time.Second

// DialEtcd makes a client of an etcd cluster (comma-separated endpoints).
// It does not wait for the cluster: Check does.
func DialEtcd(endpoints, prefix string) (*Etcd, error) {
	var eps []string
	for _, ep := range strings.Split(endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep == "" {
			continue
		}
		if !strings.Contains(ep, ":") {
			return nil, fmt.Errorf("etcd endpoint %q: want a URL like http://127.0.0.1:2379", ep)
		}
		eps = append(eps, ep)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("etcd: no endpoint in %q", endpoints)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: EtcdDialTimeout, Logger: quietLogger()})
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", endpoints, err)
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Etcd{Client: c, Prefix: prefix, Endpoints: strings.Join(eps, ",")}, nil
}

// Check reads the model's meta key within EtcdDialTimeout (or ctx's
// deadline, if sooner), so that a command pointed at an etcd that is not
// there fails at once with its address rather than at its own timeout.
func (e *Etcd) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, EtcdDialTimeout)
	defer cancel()
	_, err := e.Client.Get(ctx, e.Prefix+keyMeta)
	return e.wrap(ctx, err)
}

// wrap gives an error of a request made under ctx the cluster's address,
// and says what running out of time most likely means: the client keeps
// redialling an etcd that is not there until the deadline.
func (e *Etcd) wrap(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("etcd %s: no answer (is etcd running there? --etcd or GOKO_NETCTL_ETCD names it): %w", e.Endpoints, err)
	}
	return fmt.Errorf("etcd %s: %w", e.Endpoints, err)
}

// Close closes the client.
func (e *Etcd) Close() error { return e.Client.Close() }

// meta is the model's own key.
type meta struct {
	NextZone   uint32 `json:"next_zone"`
	Version    int    `json:"version"`
	Generation uint64 `json:"generation"` // counts writes; every write changes the key
}

// Key kinds under the prefix.
const (
	kindSwitch = "switches/"
	kindNIC    = "nics/"
	kindSG     = "sgs/"
	keyMeta    = "meta"
)

// encode returns the model as keys (without the prefix) and values.
func encode(st *State) map[string]string {
	kv := map[string]string{}
	for n, sw := range st.Switches {
		b, _ := json.Marshal(sw)
		kv[kindSwitch+n] = string(b)
	}
	for id, n := range st.NICs {
		b, _ := json.Marshal(n)
		kv[kindNIC+id] = string(b)
	}
	for id, g := range st.SGs {
		b, _ := json.Marshal(g)
		kv[kindSG+id] = string(b)
	}
	return kv
}

// apply puts one key's value into st (value nil: the key was deleted).
func (st *State) apply(key string, value []byte) error {
	switch {
	case key == keyMeta:
		if value == nil {
			return nil
		}
		var m meta
		if err := json.Unmarshal(value, &m); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		st.NextZone, st.Version = m.NextZone, m.Version
	case strings.HasPrefix(key, kindSwitch):
		name := key[len(kindSwitch):]
		if value == nil {
			delete(st.Switches, name)
			return nil
		}
		sw := &Switch{}
		if err := json.Unmarshal(value, sw); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		st.Switches[name] = sw
	case strings.HasPrefix(key, kindNIC):
		id := key[len(kindNIC):]
		if value == nil {
			delete(st.NICs, id)
			return nil
		}
		n := &NIC{}
		if err := json.Unmarshal(value, n); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		st.NICs[id] = n
	case strings.HasPrefix(key, kindSG):
		id := key[len(kindSG):]
		if value == nil {
			delete(st.SGs, id)
			return nil
		}
		g := &SG{}
		if err := json.Unmarshal(value, g); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		st.SGs[id] = g
	}
	return nil
}

// load reads the model and the revision of its meta key (0: no model yet).
func (e *Etcd) load(ctx context.Context) (*State, int64, int64, error) {
	resp, err := e.Client.Get(ctx, e.Prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, 0, e.wrap(ctx, err)
	}
	st := newState()
	var metaRev int64
	var m meta
	for _, kv := range resp.Kvs {
		k := strings.TrimPrefix(string(kv.Key), e.Prefix)
		if k == keyMeta {
			metaRev = kv.ModRevision
			json.Unmarshal(kv.Value, &m)
		}
		if err := st.apply(k, kv.Value); err != nil {
			return nil, 0, 0, fmt.Errorf("etcd %s: %w", e.Endpoints, err)
		}
	}
	if metaRev == 0 {
		st.NextZone, st.Version = 1, StateVersion
	}
	if st.NextZone == 0 {
		st.NextZone = 1
	}
	st.upgrade()
	return st, metaRev, int64(m.Generation), nil
}

// Load reads the model.
func (e *Etcd) Load(ctx context.Context) (*State, error) {
	st, _, _, err := e.load(ctx)
	return st, err
}

// ErrConflict is returned when writers kept changing the model under an
// Update.
var ErrConflict = errors.New("etcd: the model kept changing under this change; try again")

// Update runs fn on the model and commits what it changed, retrying on a
// conflicting write (see the file comment).
func (e *Etcd) Update(ctx context.Context, fn func(*State) error) (*State, *State, error) {
	for attempt := 0; attempt < 20; attempt++ {
		st, metaRev, gen, err := e.load(ctx)
		if err != nil {
			return nil, nil, err
		}
		before := st.Clone()
		if err := fn(st); err != nil {
			return nil, nil, err
		}
		ok, err := e.commit(ctx, before, st, metaRev, gen)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			return before, st, nil
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return nil, nil, ErrConflict
}

// Replace saves st as the whole model, whatever was there. etcd bounds
// the operations of one transaction (--max-txn-ops, 128 by default), so a
// large model goes in several, each checked against the revision the
// previous one left: a concurrent write makes the import start over from
// the model it left. Agents may see the model between two of them.
func (e *Etcd) Replace(ctx context.Context, st *State) error {
	for attempt := 0; attempt < 20; attempt++ {
		cur, metaRev, gen, err := e.load(ctx)
		if err != nil {
			return err
		}
		ops := e.diffOps(cur, st)
		ok := true
		for len(ops) > 0 || ok && metaRev == 0 {
			n := min(len(ops), replaceChunk)
			m, _ := json.Marshal(meta{NextZone: st.NextZone, Version: st.Version, Generation: uint64(gen) + 1})
			chunk := append(ops[:n:n], clientv3.OpPut(e.Prefix+keyMeta, string(m)))
			resp, err := e.Client.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(e.Prefix+keyMeta), "=", metaRev)).Then(chunk...).Commit()
			if err != nil {
				return e.wrap(ctx, err)
			}
			if !resp.Succeeded {
				ok = false
				break
			}
			ops, metaRev, gen = ops[n:], resp.Header.Revision, gen+1
		}
		if ok {
			return nil
		}
	}
	return ErrConflict
}

// replaceChunk is the number of object writes per transaction of Replace
// (plus the meta key), under etcd's default limit of 128.
const replaceChunk = 100

// diffOps returns the puts and deletes that turn before into after.
func (e *Etcd) diffOps(before, after *State) []clientv3.Op {
	old, cur := encode(before), encode(after)
	var ops []clientv3.Op
	for _, k := range sortedKeys(cur) {
		if ov, ok := old[k]; !ok || ov != cur[k] {
			ops = append(ops, clientv3.OpPut(e.Prefix+k, cur[k]))
		}
	}
	for _, k := range sortedKeys(old) {
		if _, ok := cur[k]; !ok {
			ops = append(ops, clientv3.OpDelete(e.Prefix+k))
		}
	}
	return ops
}

// commit writes the keys that differ between before and after, and meta,
// if meta is still at metaRev, in one transaction: a change of more than
// the cluster's --max-txn-ops keys fails (netctl's own etcd allows 16384).
func (e *Etcd) commit(ctx context.Context, before, after *State, metaRev, gen int64) (bool, error) {
	ops := e.diffOps(before, after)
	m, _ := json.Marshal(meta{NextZone: after.NextZone, Version: after.Version, Generation: uint64(gen) + 1})
	ops = append(ops, clientv3.OpPut(e.Prefix+keyMeta, string(m)))
	resp, err := e.Client.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(e.Prefix+keyMeta), "=", metaRev)).Then(ops...).Commit()
	if err != nil {
		return false, e.wrap(ctx, err)
	}
	return resp.Succeeded, nil
}
