package netctl

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/ofproto"
)

// bridge runs an ofproto bridge with ports 1-3 and a tunnel port 10,
// listening on a Unix socket; it returns the socket path.
func bridge(t *testing.T, name string) string {
	t.Helper()
	b := ofproto.New(ofproto.Config{Name: name, DatapathID: 1})
	dp := datapath.New(datapath.Config{Name: name, Translator: b, Upcaller: b})
	b.SetDatapath(dp)
	for i := uint32(1); i <= 3; i++ {
		if _, err := b.AddPort(i, memport.New("p")); err != nil {
			t.Fatal(err)
		}
	}
	tun, err := datapath.NewTunnel(datapath.TunnelConfig{Name: "vx", LocalIP: mustAddr("192.0.2.1"), Underlay: datapath.InternalPortBase,
		Neighbors: datapath.NewNeighbors()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddPort(10, tun); err != nil {
		t.Fatal(err)
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), name+".sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.Serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); b.Close(); dp.Stop() })
	return sock
}

func model(t *testing.T, sockA, sockB string) *State {
	st := newState()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.AddSwitch(Switch{Name: "a", Target: "unix:" + sockA, VTEP: "192.0.2.1", TunnelPort: 10}))
	must(st.AddSwitch(Switch{Name: "b", Target: "unix:" + sockB, VTEP: "192.0.2.2", TunnelPort: 10}))
	must(st.AddSG("ssh", false))
	r, err := NewRule(RuleSpec{Proto: "tcp", Port: "22", CIDR: "42.0.3.1/32"})
	must(err)
	must(st.AddRule("ssh", r))
	must(st.AddSG("web", false))
	r, err = NewRule(RuleSpec{Proto: "tcp", Port: "80-81", Members: "ssh"})
	must(err)
	must(st.AddRule("web", r))
	must(st.AddNIC(NIC{ID: "vnic_1", MAC: "52:54:00:12:34:01", IPs: []string{"42.0.0.1"}, VNI: 1337, Switch: "a", Port: 1, SGs: []string{"ssh", "web"}}))
	must(st.AddNIC(NIC{ID: "vnic_2", MAC: "52:54:00:12:34:02", IPs: []string{"42.0.0.2"}, VNI: 1337, Switch: "b", Port: 1, SGs: []string{"ssh"}}))
	must(st.AddNIC(NIC{ID: "vnic_3", MAC: "52:54:00:12:34:03", IPs: []string{"42.0.0.1"}, VNI: 42, Switch: "b", Port: 2}))
	return st
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestSyncIsIdempotentAndMinimal(t *testing.T) {
	sockA, sockB := bridge(t, "a"), bridge(t, "b")
	st := model(t, sockA, sockB)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := SyncAll(ctx, st, st.SwitchNames(), ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Added != r.Total || r.Total == 0 || r.Deleted != 0 {
			t.Errorf("first sync of %s: %+v", r.Switch, r)
		}
	}
	res, err = SyncAll(ctx, st, st.SwitchNames(), ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Added != 0 || r.Deleted != 0 || r.Unchanged != r.Total {
			t.Errorf("second sync of %s changed flows: %+v", r.Switch, r)
		}
	}
	// Removing a rule touches only the switches whose flows change.
	before := st.Clone()
	r, _ := NewRule(RuleSpec{Proto: "tcp", Port: "80-81", Members: "ssh"})
	st.DelRule("web", r)
	aff := Affected(before, st)
	if strings.Join(aff, ",") != "a" {
		t.Errorf("affected = %v, want [a]", aff)
	}
	res, err = SyncAll(ctx, st, aff, ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// vnic_1's web rule admitted the two ssh members on two ports: 4 flows.
	if res[0].Deleted != 4 || res[0].Added != 0 {
		t.Errorf("rule removal sync: %+v", res[0])
	}
	// A NIC in another VNI changes nothing on a.
	before = st.Clone()
	st.AddNIC(NIC{ID: "vnic_4", MAC: "52:54:00:12:34:04", IPs: []string{"42.0.0.9"}, VNI: 42, Switch: "b", Port: 3})
	if aff := Affected(before, st); strings.Join(aff, ",") != "b" {
		t.Errorf("affected = %v, want [b]", aff)
	}
}

func TestModelValidation(t *testing.T) {
	st := model(t, "/x", "/y")
	bad := []NIC{
		{ID: "v", MAC: "ff:ff:ff:ff:ff:ff", IPs: []string{"1.2.3.4"}, VNI: 1, Switch: "a", Port: 2},
		{ID: "v", MAC: "52:54:00:00:00:09", IPs: []string{"1.2.3.4"}, VNI: 1 << 24, Switch: "a", Port: 2},
		{ID: "v", MAC: "52:54:00:00:00:09", IPs: []string{"1.2.3.4"}, VNI: 1, Switch: "zz", Port: 2},
		{ID: "v", MAC: "52:54:00:00:00:09", IPs: []string{"1.2.3.4"}, VNI: 1, Switch: "a", Port: 1},     // port taken
		{ID: "v", MAC: "52:54:00:00:00:09", IPs: []string{"42.0.0.2"}, VNI: 1337, Switch: "a", Port: 2}, // IP taken in VNI
		{ID: "v", MAC: "52:54:00:00:00:09", IPs: []string{"1.2.3.4"}, VNI: 1, Switch: "a", Port: 10},    // tunnel port
	}
	for _, n := range bad {
		if err := st.AddNIC(n); err == nil {
			t.Errorf("accepted %+v", n)
		}
	}
	for _, spec := range []RuleSpec{
		{Proto: "tcp", Port: "0", CIDR: "1.2.3.4/32"},
		{Proto: "icmp", Port: "22", CIDR: "1.2.3.4/32"},
		{Proto: "tcp", Port: "22"},
		{Proto: "tcp", Port: "5000-1", CIDR: "0.0.0.0/0"},
		{Proto: "bogus", CIDR: "0.0.0.0/0"},
		{Proto: "tcp", EtherType: "ipv4", CIDR: "::/0"},
		{Proto: "icmp", CIDR: "2001:db8::/32"},
		{Proto: "icmpv6", CIDR: "10.0.0.0/8"},
		{Proto: "tcp", ICMP: "8", CIDR: "10.0.0.0/8"},
		{Proto: "icmp", ICMP: "256", CIDR: "10.0.0.0/8"},
		{Proto: "icmp", ICMP: "8/x", CIDR: "10.0.0.0/8"},
		{Proto: "tcp", Direction: "sideways", CIDR: "10.0.0.0/8"},
		{Proto: "tcp", CIDR: "10.0.0.0/8", Members: "ssh"},
	} {
		if _, err := NewRule(spec); err == nil {
			t.Errorf("rule %+v accepted", spec)
		}
	}
	for _, tc := range []struct {
		spec RuleSpec
		want string
	}{
		{RuleSpec{Proto: "6", Port: "1000-2000", CIDR: "10.1.2.3/8"}, "ip-proto tcp port 1000-2000 cidr 10.0.0.0/8"},
		{RuleSpec{Proto: "icmpv6", ICMP: "128/0", Members: "ssh"}, "ipv6 ip-proto icmpv6 icmp 128/0 sg-members ssh"},
		{RuleSpec{Direction: "egress", Proto: "any", CIDR: "2001:db8::1"}, "egress ipv6 ip-proto all cidr 2001:db8::1/128"},
	} {
		r, err := NewRule(tc.spec)
		if err != nil || r.String() != tc.want {
			t.Errorf("NewRule(%+v) = %q, %v; want %q", tc.spec, r, err, tc.want)
		}
	}
	if err := st.DelSG("ssh"); err == nil {
		t.Error("deleted a group that sg-members rules use")
	}
	// Idempotence of the model operations.
	r, _ := NewRule(RuleSpec{Proto: "tcp", Port: "22", CIDR: "42.0.3.1"})
	n := len(st.SGs["ssh"].Rules)
	st.AddRule("ssh", r)
	if len(st.SGs["ssh"].Rules) != n {
		t.Error("adding an existing rule duplicated it")
	}
	zone := st.NICs["vnic_1"].Zone
	if err := st.AddNIC(NIC{ID: "vnic_1", MAC: "52:54:00:12:34:01", IPs: []string{"42.0.0.1"}, VNI: 1337, Switch: "a", Port: 1}); err != nil {
		t.Fatal(err)
	}
	if st.NICs["vnic_1"].Zone != zone || len(st.NICs["vnic_1"].SGs) != 2 {
		t.Error("re-adding a NIC changed its zone or groups")
	}
}

// TestProgramModeRuleChangeIsMapUpdate: with the groups as programs, a
// sync loads one program per local NIC, a second sync does nothing, and a
// rule change or a remote group's new member is map writes only: no flow
// mod.
func TestProgramModeRuleChangeIsMapUpdate(t *testing.T) {
	sockA, sockB := bridge(t, "a"), bridge(t, "b")
	st := model(t, sockA, sockB)
	for _, sw := range st.Switches {
		sw.SGMode = SGModeProgram
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := SyncAll(ctx, st, st.SwitchNames(), ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Loaded != 1 || res[1].Loaded != 2 || res[0].MapWrites == 0 {
		t.Errorf("first sync: %+v", res)
	}
	res, err = SyncAll(ctx, st, st.SwitchNames(), ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Added+r.Deleted+r.Loaded+r.Unloaded+r.MapWrites != 0 {
			t.Errorf("second sync changed things: %+v", r)
		}
	}
	flowsBefore := len(st.Flows("a"))
	r, _ := NewRule(RuleSpec{Proto: "udp", Port: "1000-2000", CIDR: "10.0.0.0/8"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.AddRule("web", r))
	must(st.AddNIC(NIC{ID: "vnic_5", MAC: "52:54:00:12:34:05", IPs: []string{"42.0.0.5", "2001:db8::5"}, VNI: 1337, Switch: "b", Port: 3, SGs: []string{"ssh"}}))
	res, err = SyncAll(ctx, st, []string{"a"}, ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// On a: vnic_5 is new in vnic_1's VNI (admission and forwarding flows
	// for it), but the rule and the member are map entries only.
	if res[0].MapWrites == 0 || res[0].Loaded != 0 || len(st.Flows("a")) != flowsBefore+res[0].Added {
		t.Errorf("sync after a rule and a member: %+v", res[0])
	}
	before := st.Clone()
	must(st.DelRule("web", r))
	if aff := Affected(before, st); strings.Join(aff, ",") != "a" {
		t.Errorf("affected = %v, want [a]", aff)
	}
	res, err = SyncAll(ctx, st, []string{"a"}, ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Added+res[0].Deleted != 0 || res[0].MapWrites == 0 {
		t.Errorf("rule removal in program mode: %+v", res[0])
	}
	// Back to flows: the programs go.
	st.Switches["a"].SGMode = ""
	res, err = SyncAll(ctx, st, []string{"a"}, ofclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Unloaded != 1 {
		t.Errorf("switching to flows: %+v", res[0])
	}
}
