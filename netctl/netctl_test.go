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
	must(st.AddSG("ssh"))
	r, err := NewRule("tcp", "22", "42.0.3.1/32", "")
	must(err)
	must(st.AddRule("ssh", r))
	must(st.AddSG("web"))
	r, err = NewRule("tcp", "80-81", "", "ssh")
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
	res, err := SyncAll(ctx, st, st.SwitchNames(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Added != r.Total || r.Total == 0 || r.Deleted != 0 {
			t.Errorf("first sync of %s: %+v", r.Switch, r)
		}
	}
	res, err = SyncAll(ctx, st, st.SwitchNames(), "")
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
	r, _ := NewRule("tcp", "80-81", "", "ssh")
	st.DelRule("web", r)
	aff := Affected(before, st)
	if strings.Join(aff, ",") != "a" {
		t.Errorf("affected = %v, want [a]", aff)
	}
	res, err = SyncAll(ctx, st, aff, "")
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
	for _, args := range [][4]string{{"tcp", "0", "1.2.3.4/32", ""}, {"icmp", "22", "1.2.3.4/32", ""}, {"tcp", "22", "", ""},
		{"tcp", "1-5000", "0.0.0.0/0", ""}, {"bogus", "", "0.0.0.0/0", ""}, {"tcp", "", "::/0", ""}} {
		if _, err := NewRule(args[0], args[1], args[2], args[3]); err == nil {
			t.Errorf("rule %v accepted", args)
		}
	}
	if err := st.DelSG("ssh"); err == nil {
		t.Error("deleted a group that sg-members rules use")
	}
	// Idempotence of the model operations.
	r, _ := NewRule("tcp", "22", "42.0.3.1", "")
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
