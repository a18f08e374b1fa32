// Package switchd is the goko daemon: it reads the configuration, opens
// DPDK and its ports, creates bridges with their OpenFlow agents, connects
// to controllers, listens for OpenFlow clients and the management socket,
// and tears all of it down on shutdown.
package switchd

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/goko-net/goko/ubpf"
)

// Config is the whole daemon configuration. It can come from a YAML file
// (see docs/config.md) and from command-line flags.
type Config struct {
	LogLevel string `yaml:"log-level"`
	RunDir   string `yaml:"run-dir"`   // management sockets live here
	PMDs     int    `yaml:"pmds"`      // poll-mode threads per bridge (default 1)
	Metrics  string `yaml:"metrics"`   // HOST:PORT of the Prometheus metrics endpoint; empty: off
	MaxFlows int    `yaml:"max-flows"` // flows per table at most (0: ofproto.DefaultMaxFlows)
	// FlowLimit bounds the cached megaflows of each bridge (default
	// datapath.DefaultFlowLimit, as OVS's flow-limit).
	FlowLimit int `yaml:"flow-limit"`
	// EMCInsertInvProb inserts one in this many megaflow hits into the
	// exact-match cache, as OVS's emc-insert-inv-prob: nil means the
	// default (100), 0 turns the EMC off.
	EMCInsertInvProb *int           `yaml:"emc-insert-inv-prob"`
	SSL              SSLConfig      `yaml:",inline"` // key material of ssl: and pssl: targets
	DPDK             DPDKConfig     `yaml:"dpdk"`
	Filters          FilterConfig   `yaml:"filters"`
	Bridges          []BridgeConfig `yaml:"bridges"`
	// Level, when set, is the level of the daemon's log handler, which
	// ofctl set-log-level changes while switchd runs.
	Level *slog.LevelVar `yaml:"-"`
}

// FilterConfig bounds what filter programs may use.
type FilterConfig struct {
	// RunBudget is the instructions one run may execute unless the
	// program was loaded with its own budget (default ubpf.DefaultRunBudget).
	RunBudget int `yaml:"run-budget"`
	// MapMemoryMB bounds the memory of the maps one program load creates
	// (default 1024).
	MapMemoryMB int `yaml:"map-memory-mb"`
	// VM is the engine that runs the programs: jit, interp or auto (the
	// default: the JIT where there is one).
	VM string `yaml:"vm"`
}

// DPDKConfig configures the DPDK environment abstraction layer.
type DPDKConfig struct {
	Hugepages  bool     `yaml:"hugepages"`   // use hugepages (they must be set up)
	MemoryMB   int      `yaml:"memory-mb"`   // default 512
	FilePrefix string   `yaml:"file-prefix"` // default goko-<pid>
	PCI        bool     `yaml:"pci"`         // scan the PCI bus for physical NICs
	ExtraArgs  []string `yaml:"extra-args"`  // appended to the EAL arguments
	Mbufs      int      `yaml:"mbufs"`       // packet buffers in the pool (default 16383)
}

// BridgeConfig configures one bridge.
type BridgeConfig struct {
	Name        string   `yaml:"name"`
	DatapathID  string   `yaml:"datapath-id"` // hex (0x...) or decimal; default derived from the name
	Ports       []string `yaml:"ports"`       // port specs, as for --port
	Controllers []string `yaml:"controllers"` // tcp:HOST[:PORT], ssl:HOST[:PORT] or unix:PATH, dialled with backoff
	Listen      []string `yaml:"listen"`      // ptcp:[PORT][:IP], pssl:[PORT][:IP] or punix:PATH
	FailMode    string   `yaml:"fail-mode"`   // secure (the default); standalone is refused, see FailSecure
	Neighbors   []string `yaml:"neighbors"`   // static next hops of vxlan underlays, IP=MAC
}

// PortKind says how a port is opened.
type PortKind int

// Port kinds.
const (
	PortKernel PortKind = iota + 1 // a kernel network interface, through DPDK af_packet
	PortDPDK                       // any DPDK devargs
	PortVXLAN                      // a VXLAN tunnel over an underlay interface
)

// PortSpec is a parsed --port value: [NUMBER=]IFNAME, [NUMBER=]dpdk:DEVARGS
// or [NUMBER=]vxlan:OPTIONS.
type PortSpec struct {
	Number uint32 // 0: the next free number
	Kind   PortKind
	Name   string     // interface name, or the devargs for PortDPDK
	Tunnel TunnelSpec // PortVXLAN
}

func (p PortSpec) String() string {
	s := p.Name
	switch p.Kind {
	case PortDPDK:
		s = "dpdk:" + s
	case PortVXLAN:
		s = "vxlan:" + p.Tunnel.String()
	}
	if p.Number != 0 {
		s = strconv.FormatUint(uint64(p.Number), 10) + "=" + s
	}
	return s
}

// ParsePortSpec parses [NUMBER=]IFNAME, [NUMBER=]dpdk:DEVARGS or
// [NUMBER=]vxlan:local_ip=IP[/LEN],remote_ip=IP|flow,underlay=IFNAME[,gateway=IP][,dst_port=N].
func ParsePortSpec(s string) (PortSpec, error) {
	var spec PortSpec
	rest := s
	// A number before "=" is the OpenFlow port number. DPDK devargs contain
	// "=" too, so only a leading decimal counts.
	if i := strings.IndexByte(s, '='); i > 0 && !strings.Contains(s[:i], ":") && !strings.Contains(s[:i], ",") {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || n == 0 || n >= 0xffffff00 {
			return spec, fmt.Errorf("port %q: number %q must be between 1 and 4294967039", s, s[:i])
		}
		spec.Number, rest = uint32(n), s[i+1:]
	}
	switch {
	case strings.HasPrefix(rest, "vxlan:"):
		t, err := parseTunnelSpec(strings.TrimPrefix(rest, "vxlan:"))
		if err != nil {
			return spec, fmt.Errorf("port %q: %w", s, err)
		}
		spec.Kind, spec.Tunnel = PortVXLAN, t
		if spec.Number != 0 {
			spec.Name = "vxlan" + strconv.FormatUint(uint64(spec.Number), 10)
		} else {
			spec.Name = "vx-" + t.Underlay
		}
		if len(spec.Name) > 15 {
			spec.Name = spec.Name[:15]
		}
	case strings.HasPrefix(rest, "dpdk:"):
		spec.Kind, spec.Name = PortDPDK, strings.TrimPrefix(rest, "dpdk:")
		if spec.Name == "" {
			return spec, fmt.Errorf("port %q: empty DPDK devargs", s)
		}
	default:
		spec.Kind, spec.Name = PortKernel, rest
		if rest == "" || len(rest) > 15 || strings.ContainsAny(rest, " /:,=") {
			return spec, fmt.Errorf("port %q: %q is not a valid interface name", s, rest)
		}
	}
	return spec, nil
}

// Target is a parsed controller or listener address.
type Target struct {
	Network string // "tcp" or "unix"
	Address string // host:port or a path
	TLS     bool   // ssl: or pssl:
}

func (t Target) String() string {
	switch {
	case t.Network == "unix":
		return "unix:" + t.Address
	case t.TLS:
		return "ssl:" + t.Address
	}
	return "tcp:" + t.Address
}

// ParseController parses tcp:HOST[:PORT], ssl:HOST[:PORT] or unix:PATH
// (port defaults to 6653).
func ParseController(s string) (Target, error) {
	switch {
	case strings.HasPrefix(s, "tcp:"), strings.HasPrefix(s, "ssl:"):
		hp := s[len("tcp:"):]
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			host, port = strings.Trim(hp, "[]"), "6653"
		}
		if host == "" {
			return Target{}, fmt.Errorf("controller %q: missing host", s)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return Target{}, fmt.Errorf("controller %q: bad port %q", s, port)
		}
		return Target{Network: "tcp", Address: net.JoinHostPort(host, port), TLS: strings.HasPrefix(s, "ssl:")}, nil
	case strings.HasPrefix(s, "unix:"):
		if p := strings.TrimPrefix(s, "unix:"); p != "" {
			return Target{Network: "unix", Address: p}, nil
		}
	}
	return Target{}, fmt.Errorf("controller %q: want tcp:HOST[:PORT], ssl:HOST[:PORT] or unix:PATH", s)
}

// ParseListen parses ptcp:[PORT][:IP], pssl:[PORT][:IP] or punix:PATH. The
// port defaults to 6653 and the address to loopback (127.0.0.1): whoever
// reaches a listener can program the switch, so listening beyond the host
// is a choice to spell out (ptcp:6653:0.0.0.0), preferably with pssl:.
func ParseListen(s string) (Target, error) {
	for _, scheme := range []string{"ptcp", "pssl"} {
		if !strings.HasPrefix(s, scheme+":") && s != scheme {
			continue
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(s, scheme), ":")
		port, ip := rest, "127.0.0.1"
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			port, ip = rest[:i], strings.Trim(rest[i+1:], "[]")
		}
		if port == "" {
			port = "6653"
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return Target{}, fmt.Errorf("listen %q: bad port %q", s, port)
		}
		if net.ParseIP(ip) == nil {
			return Target{}, fmt.Errorf("listen %q: bad address %q", s, ip)
		}
		return Target{Network: "tcp", Address: net.JoinHostPort(ip, port), TLS: scheme == "pssl"}, nil
	}
	if p, ok := strings.CutPrefix(s, "punix:"); ok && p != "" {
		return Target{Network: "unix", Address: p}, nil
	}
	return Target{}, fmt.Errorf("listen %q: want ptcp:[PORT][:IP], pssl:[PORT][:IP] or punix:PATH", s)
}

// FailSecure is the only fail mode goko has, and its default.
//
// OpenFlow 1.3.5 section 6.3.3 (connection interruption) leaves the choice to the switch: in "fail
// secure" mode, when the switch loses every controller, flows stay and
// keep forwarding and expiring on their timeouts, and only what goes to a
// controller is dropped; when a controller connects again, the flows are
// still there and the controller may delete them. That is what goko does,
// and Open vSwitch's fail_mode=secure.
//
// "fail standalone" makes the switch act as an ordinary MAC-learning
// switch (OFPP_NORMAL) while no controller is connected. goko has no
// NORMAL action, and a learning fallback would also forward traffic that
// a controller's flows were meant to keep apart (tenant isolation), so it
// is refused rather than half-implemented: see ParseFailMode.
const FailSecure = "secure"

// ParseFailMode checks a fail mode.
func ParseFailMode(s string) (string, error) {
	switch s {
	case "", FailSecure:
		return FailSecure, nil
	case "standalone":
		return "", errors.New("fail-mode standalone needs the NORMAL action (an L2 learning switch), which goko does not have; " +
			"use fail-mode secure (the default: while no controller is connected, the flows stay and keep forwarding), " +
			"and install in advance the flows the switch should forward with on its own, e.g. 'priority=0 actions=flood'")
	}
	return "", fmt.Errorf("fail-mode %q: want secure (standalone is not supported)", s)
}

// ParseDatapathID parses a datapath id in hex (0x...) or decimal.
func ParseDatapathID(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("datapath id %q: %w", s, err)
	}
	return v, nil
}

// LoadConfig reads a YAML configuration file.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	if c.RunDir == "" {
		c.RunDir = "/run/goko"
	}
	if c.PMDs < 0 || c.PMDs > 64 {
		return fmt.Errorf("pmds %d: want 1 to 64", c.PMDs)
	}
	if _, err := ubpf.ParseEngine(c.Filters.VM); err != nil {
		return fmt.Errorf("filters: vm: %w", err)
	}
	if p := c.EMCInsertInvProb; p != nil && (*p < 0 || *p > 1<<20) {
		return fmt.Errorf("emc-insert-inv-prob %d: want 0 (EMC off) to %d", *p, 1<<20)
	}
	if c.FlowLimit < 0 || c.FlowLimit > 1<<26 {
		return fmt.Errorf("flow-limit %d: want 1 to %d (0: the default)", c.FlowLimit, 1<<26)
	}
	if c.MaxFlows < 0 {
		return fmt.Errorf("max-flows %d: want a positive number (0: the default)", c.MaxFlows)
	}
	if c.DPDK.MemoryMB == 0 {
		c.DPDK.MemoryMB = 512
	}
	if c.Filters.RunBudget < 0 || c.Filters.RunBudget > ubpf.MaxRunBudget {
		return fmt.Errorf("filters: run-budget %d: want 1 to %d instructions", c.Filters.RunBudget, ubpf.MaxRunBudget)
	}
	if c.Filters.MapMemoryMB < 0 || c.Filters.MapMemoryMB > 1<<20 {
		return fmt.Errorf("filters: map-memory-mb %d: want 1 to %d", c.Filters.MapMemoryMB, 1<<20)
	}
	if len(c.Bridges) == 0 {
		return errors.New("no bridge configured (use --bridge or a config file)")
	}
	seen := map[string]bool{}
	needSSL := false
	for i := range c.Bridges {
		b := &c.Bridges[i]
		if b.Name == "" || strings.ContainsAny(b.Name, "/ \t") || len(b.Name) > 64 {
			return fmt.Errorf("bridge %q: invalid name", b.Name)
		}
		if seen[b.Name] {
			return fmt.Errorf("bridge %q configured twice", b.Name)
		}
		seen[b.Name] = true
		if b.DatapathID != "" {
			if _, err := ParseDatapathID(b.DatapathID); err != nil {
				return fmt.Errorf("bridge %s: %w", b.Name, err)
			}
		}
		nums := map[uint32]bool{}
		for _, p := range b.Ports {
			spec, err := ParsePortSpec(p)
			if err != nil {
				return fmt.Errorf("bridge %s: %w", b.Name, err)
			}
			if spec.Number != 0 && nums[spec.Number] {
				return fmt.Errorf("bridge %s: port number %d used twice", b.Name, spec.Number)
			}
			nums[spec.Number] = true
		}
		for _, n := range b.Neighbors {
			if _, _, err := ParseNeighbor(n); err != nil {
				return fmt.Errorf("bridge %s: %w", b.Name, err)
			}
		}
		for _, t := range b.Controllers {
			tg, err := ParseController(t)
			if err != nil {
				return fmt.Errorf("bridge %s: %w", b.Name, err)
			}
			if tg.TLS {
				needSSL = true
			}
		}
		for _, t := range b.Listen {
			tg, err := ParseListen(t)
			if err != nil {
				return fmt.Errorf("bridge %s: %w", b.Name, err)
			}
			if tg.TLS {
				needSSL = true
			}
		}
		if _, err := ParseFailMode(b.FailMode); err != nil {
			return fmt.Errorf("bridge %s: %w", b.Name, err)
		}
	}
	if needSSL {
		if err := c.SSL.Validate(); err != nil {
			return err
		}
	}
	return nil
}
