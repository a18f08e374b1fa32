// Package netctl is goko's tenant-network controller, after Butterfly: VM
// NICs in 24-bit VNIs joined across hosts by VXLAN, and security groups
// (lists of allow rules, default deny) on what reaches each NIC. It keeps
// its model in a JSON state file and programs every switch over OpenFlow
// 1.3 from it (flows.go), so the same state always yields the same flows,
// and a restarted controller pushes them again with `sync`.
//
// The model:
//   - a switch is one goko bridge (an OpenFlow target) with a VXLAN tunnel
//     port and its VTEP address (the tunnel's local_ip);
//   - a NIC has an id, a MAC, one or more IPv4 addresses, a VNI, and sits
//     on a port of a switch; it belongs to zero or more security groups;
//   - a security group is a list of rules; a rule allows IPv4 traffic of
//     one protocol (tcp, udp, icmp or all), to one port or a port range
//     (tcp and udp), from a CIDR or from the addresses of the NICs that are
//     members of another group. A NIC's rules are the union of its groups'.
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
	"strconv"
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
}

// Switch is a goko bridge under the controller.
type Switch struct {
	Name       string `json:"name"`
	Target     string `json:"target"`      // tcp:HOST[:PORT], unix:PATH or a bridge name
	VTEP       string `json:"vtep"`        // the tunnel port's local_ip
	TunnelPort uint32 `json:"tunnel_port"` // OpenFlow number of its vxlan port (remote_ip=flow)
}

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

// Rule allows traffic into the NICs of a group.
type Rule struct {
	Proto   string `json:"ip_proto"`             // tcp, udp, icmp, all, or a protocol number
	PortMin uint16 `json:"port_min,omitempty"`   // tcp/udp destination ports; 0: any
	PortMax uint16 `json:"port_max,omitempty"`   //
	CIDR    string `json:"cidr,omitempty"`       // source prefix, or
	Members string `json:"sg_members,omitempty"` // the members of this group
}

// MaxPortRange bounds a rule's port range: OpenFlow 1.3 cannot mask
// transport ports, so a range is one flow per port.
const MaxPortRange = 1024

func (r Rule) String() string {
	s := "ip-proto " + r.Proto
	if r.PortMin != 0 {
		s += " port " + strconv.Itoa(int(r.PortMin))
		if r.PortMax != r.PortMin {
			s += "-" + strconv.Itoa(int(r.PortMax))
		}
	}
	if r.CIDR != "" {
		s += " cidr " + r.CIDR
	} else {
		s += " sg-members " + r.Members
	}
	return s
}

// protoNumber returns the IP protocol of a rule (0: all).
func (r Rule) protoNumber() uint8 {
	switch r.Proto {
	case "tcp":
		return 6
	case "udp":
		return 17
	case "icmp":
		return 1
	case "all":
		return 0
	}
	n, _ := strconv.Atoi(r.Proto)
	return uint8(n)
}

// NewRule validates and normalises a rule.
func NewRule(proto, port, cidr, members string) (Rule, error) {
	r := Rule{Proto: strings.ToLower(proto)}
	switch r.Proto {
	case "tcp", "udp", "icmp", "all":
	case "":
		return r, errors.New("--ip-proto is required (tcp, udp, icmp, all or a number)")
	default:
		n, err := strconv.Atoi(r.Proto)
		if err != nil || n < 1 || n > 255 {
			return r, fmt.Errorf("ip-proto %q: want tcp, udp, icmp, all or 1-255", proto)
		}
		switch n {
		case 6:
			r.Proto = "tcp"
		case 17:
			r.Proto = "udp"
		case 1:
			r.Proto = "icmp"
		}
	}
	if port != "" {
		if r.Proto != "tcp" && r.Proto != "udp" {
			return r, fmt.Errorf("--port needs --ip-proto tcp or udp")
		}
		lo, hi, isRange := strings.Cut(port, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || a == 0 || b < a {
			return r, fmt.Errorf("port %q: want N or N-M with 1 <= N <= M <= 65535", port)
		}
		if b-a+1 > MaxPortRange {
			return r, fmt.Errorf("port range %q spans more than %d ports", port, MaxPortRange)
		}
		r.PortMin, r.PortMax = uint16(a), uint16(b)
	}
	switch {
	case cidr != "" && members != "":
		return r, errors.New("give --cidr or --sg-members, not both")
	case cidr != "":
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			a, err2 := netip.ParseAddr(cidr)
			if err2 != nil {
				return r, fmt.Errorf("cidr %q: %v", cidr, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if !p.Addr().Is4() {
			return r, fmt.Errorf("cidr %q: only IPv4 is supported", cidr)
		}
		r.CIDR = p.Masked().String()
	case members != "":
		r.Members = members
	default:
		return r, errors.New("give --cidr or --sg-members")
	}
	return r, nil
}

func newState() *State {
	return &State{Switches: map[string]*Switch{}, NICs: map[string]*NIC{}, SGs: map[string]*SG{}, NextZone: 1}
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
	st := newState()
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		lf.Close()
		return nil, nil, fmt.Errorf("read state: %w", err)
	default:
		if err := json.Unmarshal(data, st); err != nil {
			lf.Close()
			return nil, nil, fmt.Errorf("state file %s: %w", path, err)
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
	return &Store{path: path, lock: lf}, st, nil
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
	if sw.Name == "" || strings.ContainsAny(sw.Name, " \t\"") {
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
	if n.ID == "" || strings.ContainsAny(n.ID, " \t\"") {
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
		if err != nil || !a.Is4() || a.IsUnspecified() || a.IsMulticast() {
			return fmt.Errorf("ip %q: want a unicast IPv4 address", s)
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

// AddSG creates a security group (no error if it exists).
func (st *State) AddSG(id string) error {
	if id == "" || strings.ContainsAny(id, " \t\"") {
		return fmt.Errorf("security group id %q is not valid", id)
	}
	if st.SGs[id] == nil {
		st.SGs[id] = &SG{ID: id}
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
	for _, o := range g.Rules {
		if o == r {
			return nil
		}
	}
	g.Rules = append(g.Rules, r)
	return nil
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
