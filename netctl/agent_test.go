package netctl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goko-net/goko/ofclient"
)

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startEtcd runs an embedded etcd for the test and returns a client.
func startEtcd(t testing.TB) *Etcd {
	t.Helper()
	srv, err := StartEmbeddedEtcd(t.TempDir(), fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	e, err := DialEtcd(srv.Endpoint, "/test/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestEtcdUpdatesDoNotLoseEachOther(t *testing.T) {
	e := startEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Eight writers add a group each at once; every write must survive,
	// and the zone counter must count every NIC.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, _, err := e.Update(ctx, func(st *State) error { return st.AddSG(fmt.Sprintf("g%d", i), false) })
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := e.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.SGs) != 8 || len(st.SGs["g3"].Rules) != 2 {
		t.Fatalf("groups after concurrent adds: %d", len(st.SGs))
	}
	// A change that checks the model (an address free in its VNI) sees
	// the other writer's change: of two NICs with one address, one fails.
	e.Update(ctx, func(st *State) error {
		return st.AddSwitch(Switch{Name: "s", Target: "unix:/x", VTEP: "192.0.2.9", TunnelPort: 10})
	})
	results := make(chan error, 2)
	for i := 1; i <= 2; i++ {
		go func(i int) {
			_, _, err := e.Update(ctx, func(st *State) error {
				return st.AddNIC(NIC{ID: fmt.Sprintf("n%d", i), MAC: fmt.Sprintf("52:54:00:00:00:0%d", i), IPs: []string{"10.0.0.1"}, VNI: 1, Switch: "s", Port: uint32(i)})
			})
			results <- err
		}(i)
	}
	failed := 0
	for i := 0; i < 2; i++ {
		if err := <-results; err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d of two NICs with the same address in one VNI failed", failed)
	}
	// Export, import: the same model.
	before, _ := e.Load(ctx)
	if err := e.Replace(ctx, newState()); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.Load(ctx); len(st.SGs) != 0 || len(st.NICs) != 0 {
		t.Fatal("replace with an empty model left objects")
	}
	if err := e.Replace(ctx, before); err != nil {
		t.Fatal(err)
	}
	after, _ := e.Load(ctx)
	if len(after.SGs) != len(before.SGs) || len(after.NICs) != len(before.NICs) || after.NextZone != before.NextZone {
		t.Errorf("round trip: %d groups %d nics zone %d, want %d %d %d", len(after.SGs), len(after.NICs), after.NextZone,
			len(before.SGs), len(before.NICs), before.NextZone)
	}
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// switchMatches reports whether the switch at target holds exactly want.
func switchMatches(t *testing.T, target string, want Want) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ofclient.Connect(ctx, target, ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in, err := ReadInstalled(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	wf := make([]ofclient.Flow, len(want.Flows))
	for i := range want.Flows {
		wf[i] = want.Flows[i].clientFlow()
	}
	return ofclient.Diff(in.Flows, wf, false).Empty() && samePrograms(in.Programs, want.Programs)
}

// TestAgentsFailover: two agents on one switch elect a master that keeps
// the switch in line with etcd; when it goes, the standby takes over with
// nothing to change.
func TestAgentsFailover(t *testing.T) {
	e := startEtcd(t)
	sockA, sockB := bridge(t, "a"), bridge(t, "b")
	st := model(t, sockA, sockB)
	st.Switches["a"].SGMode = SGModeProgram
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.Replace(ctx, st); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(id string) (*Agent, context.CancelFunc) {
		actx, acancel := context.WithCancel(ctx)
		a := NewAgent(AgentConfig{Etcd: e, Switch: "a", ID: id, TTL: 1, Logger: quiet})
		done := make(chan struct{})
		go func() { a.Run(actx); close(done) }()
		t.Cleanup(func() { acancel(); <-done })
		return a, func() { acancel(); <-done }
	}
	master, stopMaster := start("a1")
	waitFor(t, 10*time.Second, "a master", master.Leader)
	standby, _ := start("a2")
	resp, _ := e.Client.Get(ctx, e.Prefix+keyMeta)
	rev := resp.Header.Revision
	waitFor(t, 10*time.Second, "the first apply", func() bool { return master.AppliedRevision() >= rev })
	cur, _ := e.Load(ctx)
	if !switchMatches(t, "unix:"+sockA, cur.Want("a")) {
		t.Fatal("the switch does not hold the model's flows and programs")
	}
	// A rule change reaches the switch as map writes.
	_, after, err := e.Update(ctx, func(st *State) error {
		r, _ := NewRule(RuleSpec{Proto: "udp", Port: "1000-2000", CIDR: "10.0.0.0/8"})
		return st.AddRule("web", r)
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = e.Client.Get(ctx, e.Prefix+keyMeta)
	rev = resp.Header.Revision
	waitFor(t, 10*time.Second, "the rule change", func() bool { return master.AppliedRevision() >= rev })
	if last := master.Stats().Last; last.MapWrites == 0 || last.Added+last.Deleted != 0 {
		t.Errorf("rule change applied as %+v", last)
	}
	if !switchMatches(t, "unix:"+sockA, after.Want("a")) {
		t.Fatal("the switch does not hold the changed model")
	}
	if standby.Leader() {
		t.Fatal("two masters")
	}
	stopMaster()
	waitFor(t, 10*time.Second, "the standby to take over", func() bool { return standby.Leader() && standby.AppliedRevision() >= rev })
	if s := standby.Stats(); s.Resyncs != 1 || s.Changes != 0 {
		t.Errorf("take-over: %+v, want one resync and no change", s)
	}
}

func TestAgentInterest(t *testing.T) {
	st := model(t, "/x", "/y")
	in := interestOf(st, "a") // vnic_1 on a: vni 1337, groups ssh and web (web's rule names ssh)
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"nics/vnic_1", true},  // its own NIC
		{"nics/vnic_2", true},  // same VNI
		{"nics/vnic_3", false}, // another VNI, in no group it uses
		{"sgs/ssh", true},
		{"sgs/web", true},
		{"switches/b", true},
		{"meta", false},
		{"agents/a/694d9b1e3c1a2b01", false},
	} {
		if got := in.touches(st, tc.key); got != tc.want {
			t.Errorf("touches(%s) = %v, want %v", tc.key, got, tc.want)
		}
	}
	// vnic_3 joining ssh (whose members web's rule admits) concerns a.
	st.NICs["vnic_3"].SGs = []string{"ssh"}
	if !in.touches(st, "nics/vnic_3") {
		t.Error("a member joining a group a's rules name does not concern a")
	}
	if interestOf(st, "b").touches(st, "sgs/web") {
		t.Error("a group no NIC of b uses concerns b")
	}
}

// TestEtcdUnreachable: a command pointed at an etcd that is not there
// fails within EtcdDialTimeout, naming the address, rather than waiting
// for its own timeout; a malformed endpoint fails at once.
func TestEtcdUnreachable(t *testing.T) {
	url := fmt.Sprintf("http://127.0.0.1:%d", freePort(t)) // nobody listens there
	e, err := DialEtcd(url, "")
	if err != nil {
		t.Fatalf("DialEtcd does not wait for the cluster, yet: %v", err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	err = e.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("Check of %s: %v; want an error naming it", url, err)
	}
	if d := time.Since(start); d > EtcdDialTimeout+5*time.Second {
		t.Errorf("Check took %v", d)
	}
	for _, bad := range []string{"localhost", "", " , "} {
		if _, err := DialEtcd(bad, ""); err == nil || !strings.Contains(err.Error(), "etcd") {
			t.Errorf("DialEtcd(%q): %v; want an error", bad, err)
		}
	}
}
