// Package netctl is goko's tenant-network controller, after Butterfly and
// OVN: VM NICs in 24-bit VNIs joined across hosts by VXLAN, and security
// groups (allow rules, default deny, stateful) on what each NIC sends and
// receives. The model (this file, rule.go) lives in a store: a JSON file
// for one machine, or etcd (store.go) for many. Each switch's flows are a
// pure function of the model (flows.go), so the same model always yields
// the same flows; they are pushed with the fewest changes by `netctl sync`
// or kept in line continuously by one agent per host (agent.go), which
// watches etcd. A security group can also run as one filter program per
// NIC whose rules live in maps (sgprog.go), so a rule change is a map
// update.
//
// The model:
//   - a switch is one goko bridge (an OpenFlow target) with a VXLAN tunnel
//     port and its VTEP address (the tunnel's local_ip);
//   - a NIC has an id, a MAC, one or more IPv4 and IPv6 addresses, a VNI,
//     and sits on a port of a switch; it belongs to zero or more security
//     groups;
//   - a security group is a list of rules (rule.go). A NIC's rules are the
//     union of its groups'.
package netctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// State is the controller's whole model. It is what the state file holds.
type State struct {
	Switches map[string]*Switch `json:"switches"`
	NICs     map[string]*NIC    `json:"nics"`
	SGs      map[string]*SG     `json:"security_groups"`
	// NextZone is the next conntrack zone to give a NIC.
	NextZone uint32 `json:"next_zone"`
	// Version is the model's format: 0 before egress rules existed (its
	// groups get the default egress rules when loaded), StateVersion now.
	Version int `json:"version,omitempty"`
}

// StateVersion is the current model format.
const StateVersion = 2

// upgrade brings a model of an older format to the current one: groups
// made before egress rules existed allowed everything out, and still do.
func (st *State) upgrade() {
	if st.Version < StateVersion {
		for _, g := range st.SGs {
			for _, r := range defaultEgress() {
				g.addRule(r)
			}
		}
		st.Version = StateVersion
	}
}

// Switch is a goko bridge under the controller.
type Switch struct {
	Name       string `json:"name"`
	Target     string `json:"target"`      // tcp:HOST[:PORT], unix:PATH or a bridge name
	VTEP       string `json:"vtep"`        // the tunnel port's local_ip
	TunnelPort uint32 `json:"tunnel_port"` // OpenFlow number of its vxlan port (remote_ip=flow)
	// SGMode is how security groups run on the switch: "" (flows, one
	// per rule, remote address and port) or "program" (one filter program
	// per NIC whose rules are maps; see sgprog.go).
	SGMode string `json:"sg_mode,omitempty"`
}

// SGModeProgram runs a switch's security groups as filter programs.
const SGModeProgram = "program"

// NIC is a VM network interface.
type NIC struct {
	ID     string   `json:"id"`
	MAC    string   `json:"mac"`
	IPs    []string `json:"ips"`
	VNI    uint32   `json:"vni"`
	Switch string   `json:"switch"`
	Port   uint32   `json:"port"`
	SGs    []string `json:"security_groups"`
	// Zone is the conntrack zone of the NIC's own connections.
	Zone uint32 `json:"zone"`
}

// SG is a security group.
type SG struct {
	ID    string `json:"id"`
	Rules []Rule `json:"rules"`
}

func newState() *State {
	return &State{Switches: map[string]*Switch{}, NICs: map[string]*NIC{}, SGs: map[string]*SG{}, NextZone: 1, Version: StateVersion}
}

// Store is a state file, locked while a command runs.
type Store struct {
	path string
	lock *os.File
}

// Open locks the state file at path (creating its directory) and loads
// it; a missing file is an empty state.
func Open(path string) (*Store, *State, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("state directory: %w", err)
	}
	lf, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("state lock: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		lf.Close()
		return nil, nil, fmt.Errorf("state lock: %w", err)
	}
	st, err := ReadStateFile(path)
	if err != nil {
		lf.Close()
		return nil, nil, err
	}
	return &Store{path: path, lock: lf}, st, nil
}

// ReadStateFile reads a state file without locking it (export, import);
// a missing file is an empty state.
func ReadStateFile(path string) (*State, error) {
	st := newState()
	st.Version = 0 // a file without a version is of the first format
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		st.Version = StateVersion // a new file
	case err != nil:
		return nil, fmt.Errorf("read state: %w", err)
	default:
		if err := json.Unmarshal(data, st); err != nil {
			return nil, fmt.Errorf("state file %s: %w", path, err)
		}
		if st.Switches == nil {
			st.Switches = map[string]*Switch{}
		}
		if st.NICs == nil {
			st.NICs = map[string]*NIC{}
		}
		if st.SGs == nil {
			st.SGs = map[string]*SG{}
		}
		if st.NextZone == 0 {
			st.NextZone = 1
		}
	}
	st.upgrade()
	return st, nil
}

// Save writes st atomically (temporary file, fsync, rename).
func (s *Store) Save(st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write state: %w", err)
	}
	f.Close()
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// Close releases the lock.
func (s *Store) Close() error { return s.lock.Close() }

// Clone returns a deep copy of st (through JSON: the model is small).
func (st *State) Clone() *State {
	data, _ := json.Marshal(st)
	c := newState()
	json.Unmarshal(data, c)
	return c
}

// AddSwitch adds or updates a switch.
func (st *State) AddSwitch(sw Switch) error {
	if sw.Name == "" || strings.ContainsAny(sw.Name, " \t\"/") {
		return fmt.Errorf("switch name %q is not valid", sw.Name)
	}
	if sw.Target == "" {
		return errors.New("--target is required")
	}
	a, err := netip.ParseAddr(sw.VTEP)
	if err != nil || !a.Is4() {
		return fmt.Errorf("vtep %q: want the IPv4 local_ip of the switch's vxlan port", sw.VTEP)
	}
	if sw.TunnelPort == 0 || sw.TunnelPort > 0xffffff00 {
		return fmt.Errorf("tunnel port %d is not a valid OpenFlow port", sw.TunnelPort)
	}
	switch sw.SGMode {
	case "", "flows":
		sw.SGMode = ""
	case SGModeProgram:
	default:
		return fmt.Errorf("sg mode %q: want flows or program", sw.SGMode)
	}
	for _, o := range st.Switches {
		if o.Name != sw.Name && o.VTEP == sw.VTEP {
			return fmt.Errorf("vtep %s is already switch %s's", sw.VTEP, o.Name)
		}
	}
	st.Switches[sw.Name] = &sw
	return nil
}

// DelSwitch removes a switch; it must carry no NIC.
func (st *State) DelSwitch(name string) error {
	for _, n := range st.NICs {
		if n.Switch == name {
			return fmt.Errorf("switch %s still has NIC %s", name, n.ID)
		}
	}
	delete(st.Switches, name)
	return nil
}

// AddNIC adds a NIC, or updates it if the id exists (its zone and groups
// are kept unless sgs is given).
func (st *State) AddNIC(n NIC) error {
	if n.ID == "" || strings.ContainsAny(n.ID, " \t\"/") {
		return fmt.Errorf("nic id %q is not valid", n.ID)
	}
	mac, err := net.ParseMAC(n.MAC)
	if err != nil || len(mac) != 6 || mac[0]&1 != 0 || mac.String() == "00:00:00:00:00:00" {
		return fmt.Errorf("mac %q: want a unicast Ethernet address", n.MAC)
	}
	n.MAC = mac.String()
	if len(n.IPs) == 0 {
		return errors.New("--ip is required")
	}
	for i, s := range n.IPs {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
			return fmt.Errorf("ip %q: want a unicast IPv4 or IPv6 address", s)
		}
		n.IPs[i] = a.String()
	}
	sort.Strings(n.IPs)
	n.IPs = dedupe(n.IPs)
	if n.VNI == 0 || n.VNI > 0xffffff {
		return fmt.Errorf("vni %d: want 1-16777215", n.VNI)
	}
	sw := st.Switches[n.Switch]
	if sw == nil {
		return fmt.Errorf("switch %q is not known (add it with: netctl switch add)", n.Switch)
	}
	if n.Port == 0 || n.Port > 0xffffff00 || n.Port == sw.TunnelPort {
		return fmt.Errorf("port %d of switch %s cannot carry a NIC", n.Port, n.Switch)
	}
	for _, sg := range n.SGs {
		if st.SGs[sg] == nil {
			return fmt.Errorf("security group %q does not exist", sg)
		}
	}
	for _, o := range st.NICs {
		if o.ID == n.ID {
			continue
		}
		if o.Switch == n.Switch && o.Port == n.Port {
			return fmt.Errorf("port %d of switch %s already carries NIC %s", n.Port, n.Switch, o.ID)
		}
		if o.VNI == n.VNI && o.MAC == n.MAC {
			return fmt.Errorf("mac %s is already NIC %s's in vni %d", n.MAC, o.ID, n.VNI)
		}
		if o.VNI == n.VNI {
			for _, a := range o.IPs {
				for _, b := range n.IPs {
					if a == b {
						return fmt.Errorf("ip %s is already NIC %s's in vni %d", a, o.ID, n.VNI)
					}
				}
			}
		}
	}
	if old := st.NICs[n.ID]; old != nil {
		n.Zone = old.Zone
		if n.SGs == nil {
			n.SGs = old.SGs
		}
	} else {
		n.Zone = st.NextZone
		st.NextZone++
	}
	sort.Strings(n.SGs)
	n.SGs = dedupe(n.SGs)
	st.NICs[n.ID] = &n
	return nil
}

// DelNIC removes a NIC (no error if it does not exist).
func (st *State) DelNIC(id string) { delete(st.NICs, id) }

// AddSG creates a security group (no error if it exists), with the default
// egress rules (anything out, IPv4 and IPv6) unless bare.
func (st *State) AddSG(id string, bare bool) error {
	if id == "" || strings.ContainsAny(id, " \t\"/") {
		return fmt.Errorf("security group id %q is not valid", id)
	}
	if st.SGs[id] == nil {
		g := &SG{ID: id}
		if !bare {
			g.Rules = defaultEgress()
		}
		st.SGs[id] = g
	}
	return nil
}

// DelSG removes a group, and it from every NIC; groups whose rules name
// it as sg-members make it fail.
func (st *State) DelSG(id string) error {
	for _, g := range st.SGs {
		for _, r := range g.Rules {
			if r.Members == id && g.ID != id {
				return fmt.Errorf("security group %s has a rule with sg-members %s", g.ID, id)
			}
		}
	}
	delete(st.SGs, id)
	for _, n := range st.NICs {
		n.SGs = remove(n.SGs, id)
	}
	return nil
}

// AddRule adds r to group id (no error if it is there).
func (st *State) AddRule(id string, r Rule) error {
	g := st.SGs[id]
	if g == nil {
		return fmt.Errorf("security group %q does not exist", id)
	}
	if r.Members != "" && st.SGs[r.Members] == nil {
		return fmt.Errorf("sg-members: security group %q does not exist", r.Members)
	}
	g.addRule(r)
	return nil
}

func (g *SG) addRule(r Rule) {
	for _, o := range g.Rules {
		if o == r {
			return
		}
	}
	g.Rules = append(g.Rules, r)
}

// DelRule removes r from group id (no error if it is not there).
func (st *State) DelRule(id string, r Rule) error {
	g := st.SGs[id]
	if g == nil {
		return nil
	}
	kept := g.Rules[:0]
	for _, o := range g.Rules {
		if o != r {
			kept = append(kept, o)
		}
	}
	g.Rules = kept
	return nil
}

// NICAddSG puts a NIC in a group.
func (st *State) NICAddSG(nic, sg string) error {
	n := st.NICs[nic]
	if n == nil {
		return fmt.Errorf("nic %q does not exist", nic)
	}
	if st.SGs[sg] == nil {
		return fmt.Errorf("security group %q does not exist", sg)
	}
	n.SGs = dedupe(append(n.SGs, sg))
	sort.Strings(n.SGs)
	return nil
}

// NICDelSG takes a NIC out of a group (no error if it was not in it).
func (st *State) NICDelSG(nic, sg string) error {
	if n := st.NICs[nic]; n != nil {
		n.SGs = remove(n.SGs, sg)
	}
	return nil
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func remove(s []string, v string) []string {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// sortedNICs returns the NICs sorted by id.
func (st *State) sortedNICs() []*NIC {
	out := make([]*NIC, 0, len(st.NICs))
	for _, n := range st.NICs {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SwitchNames returns the switch names, sorted.
func (st *State) SwitchNames() []string {
	var out []string
	for n := range st.Switches {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
