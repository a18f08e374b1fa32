// Package switchd is the goko daemon: it reads the configuration, opens
// DPDK and its ports, creates bridges with their OpenFlow agents, connects
// to controllers, listens for OpenFlow clients and the management socket,
// and tears all of it down on shutdown.
package switchd

import (
	"errors"
	"fmt"
	"io"
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
	LogLevel string         `yaml:"log-level"`
	RunDir   string         `yaml:"run-dir"` // management sockets live here
	PMDs     int            `yaml:"pmds"`    // poll-mode threads per bridge (default 1)
	Metrics  string         `yaml:"metrics"` // HOST:PORT of the Prometheus metrics endpoint; empty: off
	DPDK     DPDKConfig     `yaml:"dpdk"`
	Filters  FilterConfig   `yaml:"filters"`
	Bridges  []BridgeConfig `yaml:"bridges"`
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
	Controllers []string `yaml:"controllers"` // tcp:HOST[:PORT] or unix:PATH, dialled with backoff
	Listen      []string `yaml:"listen"`      // ptcp:PORT[:IP] or punix:PATH
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
}

// ParseController parses tcp:HOST[:PORT] or unix:PATH (port defaults to 6653).
func ParseController(s string) (Target, error) {
	switch {
	case strings.HasPrefix(s, "tcp:"):
		hp := strings.TrimPrefix(s, "tcp:")
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			host, port = hp, "6653"
		}
		if host == "" {
			return Target{}, fmt.Errorf("controller %q: missing host", s)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return Target{}, fmt.Errorf("controller %q: bad port %q", s, port)
		}
		return Target{"tcp", net.JoinHostPort(host, port)}, nil
	case strings.HasPrefix(s, "unix:"):
		if p := strings.TrimPrefix(s, "unix:"); p != "" {
			return Target{"unix", p}, nil
		}
	}
	return Target{}, fmt.Errorf("controller %q: want tcp:HOST[:PORT] or unix:PATH", s)
}

// ParseListen parses ptcp:[PORT][:IP] or punix:PATH (port defaults to 6653,
// address to all).
func ParseListen(s string) (Target, error) {
	switch {
	case strings.HasPrefix(s, "ptcp:") || s == "ptcp":
		rest := strings.TrimPrefix(strings.TrimPrefix(s, "ptcp"), ":")
		port, ip := rest, ""
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			port, ip = rest[:i], rest[i+1:]
		}
		if port == "" {
			port = "6653"
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return Target{}, fmt.Errorf("listen %q: bad port %q", s, port)
		}
		if ip != "" && net.ParseIP(strings.Trim(ip, "[]")) == nil {
			return Target{}, fmt.Errorf("listen %q: bad address %q", s, ip)
		}
		return Target{"tcp", net.JoinHostPort(strings.Trim(ip, "[]"), port)}, nil
	case strings.HasPrefix(s, "punix:"):
		if p := strings.TrimPrefix(s, "punix:"); p != "" {
			return Target{"unix", p}, nil
		}
	}
	return Target{}, fmt.Errorf("listen %q: want ptcp:[PORT][:IP] or punix:PATH", s)
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
			if _, err := ParseController(t); err != nil {
				return fmt.Errorf("bridge %s: %w", b.Name, err)
			}
		}
		for _, t := range b.Listen {
			if _, err := ParseListen(t); err != nil {
				return fmt.Errorf("bridge %s: %w", b.Name, err)
			}
		}
	}
	return nil
}
