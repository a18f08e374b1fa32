// Command netctl is goko's tenant-network controller: VM NICs in VXLAN
// VNIs with security groups, programmed into goko switches over OpenFlow.
// See docs/tenant-networks.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/goko-net/goko/internal/version"
	"github.com/goko-net/goko/netctl"
	"github.com/goko-net/goko/ofclient"
)

const usage = `usage: netctl [--state FILE | --etcd URLS [--etcd-prefix P]] [--run-dir DIR] [--timeout D] COMMAND

switches
  switch add NAME --target TARGET --vtep IP [--tunnel-port N] [--sg-mode flows|program]
  switch del NAME
  switch list
NICs
  nic add --id ID --mac MAC --ip IP [--ip IP ...] --vni VNI --switch NAME --port N [--sg SG ...]
      (IP: IPv4 or IPv6)
  nic del ID
  nic list
  nic sg add NIC SG
  nic sg del NIC SG
  nic sg list NIC
security groups (default deny both ways, stateful; a NIC's rules add up across its groups)
  sg add SG [--no-default-egress]   (a new group allows all egress unless told not to)
  sg del SG
  sg list
  sg rule add SG [--direction ingress|egress] [--ethertype ipv4|ipv6]
      --ip-proto tcp|udp|icmp|icmpv6|all|N [--port N|N-M] [--icmp TYPE[/CODE]]
      (--cidr PREFIX | --sg-members SG)
  sg rule del SG (same arguments as add)
  sg rule list SG
whole network
  sync [NAME ...]     push the flows of every (or the named) switch again
  status [--dot]      print the topology (--dot: as a Graphviz graph)
  export [FILE]       write the model as a JSON state file (default: stdout)
  import FILE         replace the model with a JSON state file's
with etcd
  agent --switch NAME [--target TARGET] [--id ID] [--ttl SECONDS]
                      keep one switch in line with the model (one per host;
                      several per switch elect a master, the rest stand by)
  etcd --data-dir DIR [--listen-client URL] [--listen-peer URL]
                      run a single-member etcd for a single machine

TARGET is tcp:HOST[:PORT], ssl:HOST[:PORT], unix:PATH or a bridge name (its
management socket in --run-dir). The model is in the JSON file --state
(default), or in etcd with --etcd (env GOKO_NETCTL_ETCD). Every command is
idempotent. With a file, a change re-programs every switch it affects; with
etcd, the agents do. Exit status: 0 done, 1 failed, 2 bad usage.
`

type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func main() {
	err := run(os.Args[1:])
	if err == nil || errors.Is(err, pflag.ErrHelp) { // --help: the usage is printed
		return
	}
	fmt.Fprintln(os.Stderr, "netctl:", err)
	var ue usageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

type env struct {
	statePath  string
	etcdURLs   string
	etcdPrefix string
	runDir     string
	timeout    time.Duration
	tls        ofclient.TLSFiles
	etcd       *netctl.Etcd // nil: the state file
}

func run(args []string) error {
	fs := pflag.NewFlagSet("netctl", pflag.ContinueOnError)
	fs.SetInterspersed(false)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	defState := os.Getenv("GOKO_NETCTL_STATE")
	if defState == "" {
		defState = "/var/lib/goko/netctl.json"
	}
	var e env
	fs.StringVar(&e.statePath, "state", defState, "state file (env GOKO_NETCTL_STATE)")
	fs.StringVar(&e.etcdURLs, "etcd", os.Getenv("GOKO_NETCTL_ETCD"), "etcd endpoints, comma-separated (env GOKO_NETCTL_ETCD); the model lives there instead of --state")
	fs.StringVar(&e.etcdPrefix, "etcd-prefix", netctl.DefaultPrefix, "key prefix of the model in etcd")
	fs.StringVar(&e.runDir, "run-dir", os.Getenv("GOKO_RUN_DIR"), "run dir of bridge-name targets (default /run/goko)")
	fs.StringVar(&e.tls.PrivateKey, "private-key", "", "ssl: targets: PEM private key")
	fs.StringVar(&e.tls.Certificate, "certificate", "", "ssl: targets: PEM certificate")
	fs.StringVar(&e.tls.CACert, "ca-cert", "", "ssl: targets: PEM CA certificate")
	fs.DurationVar(&e.timeout, "timeout", 30*time.Second, "time limit of each switch update")
	showVersion := fs.BoolP("version", "V", false, "print netctl's version and exit")
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return nil
		}
		return usageError{err}
	}
	if *showVersion {
		fmt.Println(version.Line("netctl"))
		return nil
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" {
		fmt.Print(usage)
		return nil
	}
	cmd, rest := rest[0], rest[1:]
	if cmd == "etcd" {
		return runEtcd(rest)
	}
	if e.etcdURLs != "" {
		ec, err := netctl.DialEtcd(e.etcdURLs, e.etcdPrefix)
		if err != nil {
			return err
		}
		defer ec.Close()
		e.etcd = ec
		// An agent waits for etcd (and says so in its log); a command
		// fails at once.
		if cmd != "agent" {
			if err := ec.Check(context.Background()); err != nil {
				return err
			}
		}
	}
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case cmd == "switch" && sub == "add":
		return e.switchAdd(rest[1:])
	case cmd == "switch" && sub == "del":
		return e.switchDel(rest[1:])
	case cmd == "switch" && sub == "list":
		return e.list(func(st *netctl.State) {
			for _, n := range st.SwitchNames() {
				sw := st.Switches[n]
				mode := ""
				if sw.SGMode != "" {
					mode = " sg-mode=" + sw.SGMode
				}
				fmt.Printf("%s target=%s vtep=%s tunnel-port=%d%s\n", n, sw.Target, sw.VTEP, sw.TunnelPort, mode)
			}
		})
	case cmd == "nic" && sub == "add":
		return e.nicAdd(rest[1:])
	case cmd == "nic" && sub == "del":
		id, err := oneArg(rest[1:], "nic del ID")
		if err != nil {
			return err
		}
		return e.change(func(st *netctl.State) error { st.DelNIC(id); return nil })
	case cmd == "nic" && sub == "list":
		return e.list(func(st *netctl.State) {
			for _, id := range sortedKeys(st.NICs) {
				n := st.NICs[id]
				fmt.Printf("%s mac=%s ip=%s vni=%d switch=%s port=%d sg=%s\n", n.ID, n.MAC, strings.Join(n.IPs, ","),
					n.VNI, n.Switch, n.Port, strings.Join(n.SGs, ","))
			}
		})
	case cmd == "nic" && sub == "sg":
		return e.nicSG(rest[1:])
	case cmd == "sg" && sub == "add":
		return e.sgAdd(rest[1:])
	case cmd == "sg" && sub == "del":
		id, err := oneArg(rest[1:], "sg del SG")
		if err != nil {
			return err
		}
		return e.change(func(st *netctl.State) error { return st.DelSG(id) })
	case cmd == "sg" && sub == "list":
		return e.list(func(st *netctl.State) {
			for _, id := range sortedKeys(st.SGs) {
				fmt.Printf("%s rules=%d\n", id, len(st.SGs[id].Rules))
			}
		})
	case cmd == "sg" && sub == "rule":
		return e.sgRule(rest[1:])
	case cmd == "sync":
		return e.sync(rest)
	case cmd == "status":
		return e.status(rest)
	case cmd == "export":
		return e.export(rest)
	case cmd == "import":
		return e.importState(rest)
	case cmd == "agent":
		return e.agent(rest)
	}
	return usagef("unknown command %q (run netctl help)", strings.TrimSpace(cmd+" "+sub))
}

func oneArg(args []string, form string) (string, error) {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return "", usagef("usage: netctl %s", form)
	}
	return args[0], nil
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// newFlags returns the flags of a command; its --help prints them.
func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: netctl %s (run netctl help for every command)\n%s", name, fs.FlagUsages())
	}
	return fs
}

func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	return nil
}

// change applies fn to the state, saves it, and re-programs every switch
// whose flows it changes.
func (e *env) change(fn func(*netctl.State) error) error {
	if e.etcd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		defer cancel()
		_, _, err := e.etcd.Update(ctx, fn)
		return err
	}
	store, st, err := netctl.Open(e.statePath)
	if err != nil {
		return err
	}
	defer store.Close()
	before := st.Clone()
	if err := fn(st); err != nil {
		return err
	}
	if err := store.Save(st); err != nil {
		return err
	}
	return e.push(st, netctl.Affected(before, st))
}

func (e *env) push(st *netctl.State, names []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	opt := ofclient.Options{RunDir: e.runDir}
	if !e.tls.Empty() {
		conf, err := e.tls.Config()
		if err != nil {
			return err
		}
		opt.TLS = conf
	}
	res, err := netctl.SyncAll(ctx, st, names, opt)
	for _, r := range res {
		fmt.Printf("switch %s: %d flows, %d added or changed, %d deleted\n", r.Switch, r.Total, r.Added, r.Deleted)
	}
	if err != nil {
		return fmt.Errorf("%w\n(the state is saved; run 'netctl sync' once the switch is back)", err)
	}
	return nil
}

func (e *env) list(fn func(*netctl.State)) error {
	if e.etcd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		defer cancel()
		st, err := e.etcd.Load(ctx)
		if err != nil {
			return err
		}
		fn(st)
		return nil
	}
	store, st, err := netctl.Open(e.statePath)
	if err != nil {
		return err
	}
	defer store.Close()
	fn(st)
	return nil
}

func (e *env) switchAdd(args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usagef("usage: netctl switch add NAME --target TARGET --vtep IP [--tunnel-port N]")
	}
	name := args[0]
	fs := newFlags("switch add")
	target := fs.String("target", "", "OpenFlow target of the switch")
	vtep := fs.String("vtep", "", "local_ip of the switch's vxlan port")
	port := fs.Uint32("tunnel-port", 10, "OpenFlow number of the switch's vxlan port (remote_ip=flow)")
	mode := fs.String("sg-mode", "flows", "security groups as flows, or as one filter program per NIC (program)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	return e.change(func(st *netctl.State) error {
		return st.AddSwitch(netctl.Switch{Name: name, Target: *target, VTEP: *vtep, TunnelPort: *port, SGMode: *mode})
	})
}

func (e *env) switchDel(args []string) error {
	name, err := oneArg(args, "switch del NAME")
	if err != nil {
		return err
	}
	if e.etcd != nil {
		// The switch's agent keeps its last flows; clearing it is the
		// operator's (netctl sync before the delete, or ofctl).
		return e.change(func(st *netctl.State) error { return st.DelSwitch(name) })
	}
	store, st, err := netctl.Open(e.statePath)
	if err != nil {
		return err
	}
	defer store.Close()
	if st.Switches[name] == nil {
		return nil
	}
	before := st.Clone()
	if err := st.DelSwitch(name); err != nil {
		return err
	}
	// The switch carries no NIC, so its wanted flows are none: clear it
	// (best effort: it may be gone already).
	if err := e.push(before, []string{name}); err != nil {
		fmt.Fprintln(os.Stderr, "netctl: warning:", err)
	}
	if err := store.Save(st); err != nil {
		return err
	}
	return e.push(st, netctl.Affected(before, st))
}

func (e *env) nicAdd(args []string) error {
	fs := newFlags("nic add")
	id := fs.String("id", "", "NIC id")
	mac := fs.String("mac", "", "MAC address")
	ips := fs.StringArray("ip", nil, "IPv4 or IPv6 address; repeatable")
	vni := fs.Uint32("vni", 0, "VXLAN network identifier, 1-16777215")
	sw := fs.String("switch", "", "switch the NIC is on")
	port := fs.Uint32("port", 0, "OpenFlow port of the NIC on the switch")
	sgs := fs.StringArray("sg", nil, "security group; repeatable")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	n := netctl.NIC{ID: *id, MAC: *mac, IPs: *ips, VNI: *vni, Switch: *sw, Port: *port}
	if fs.Changed("sg") {
		n.SGs = append([]string{}, *sgs...)
	}
	return e.change(func(st *netctl.State) error { return st.AddNIC(n) })
}

func (e *env) nicSG(args []string) error {
	if len(args) == 0 {
		return usagef("usage: netctl nic sg add|del NIC SG, or nic sg list NIC")
	}
	switch args[0] {
	case "add", "del":
		if len(args) != 3 {
			return usagef("usage: netctl nic sg %s NIC SG", args[0])
		}
		nic, sg := args[1], args[2]
		if args[0] == "add" {
			return e.change(func(st *netctl.State) error { return st.NICAddSG(nic, sg) })
		}
		return e.change(func(st *netctl.State) error { return st.NICDelSG(nic, sg) })
	case "list":
		nic, err := oneArg(args[1:], "nic sg list NIC")
		if err != nil {
			return err
		}
		return e.list(func(st *netctl.State) {
			if n := st.NICs[nic]; n != nil {
				for _, sg := range n.SGs {
					fmt.Println(sg)
				}
			}
		})
	}
	return usagef("unknown command nic sg %s", args[0])
}

func (e *env) sgRule(args []string) error {
	if len(args) == 0 {
		return usagef("usage: netctl sg rule add|del|list SG ...")
	}
	op := args[0]
	if op == "list" {
		id, err := oneArg(args[1:], "sg rule list SG")
		if err != nil {
			return err
		}
		return e.list(func(st *netctl.State) {
			if g := st.SGs[id]; g != nil {
				for _, r := range g.Rules {
					fmt.Println(r)
				}
			}
		})
	}
	if (op != "add" && op != "del") || len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return usagef("usage: netctl sg rule add|del SG [--direction D] [--ethertype E] --ip-proto P [--port N|N-M] [--icmp T[/C]] (--cidr PREFIX | --sg-members SG)")
	}
	id := args[1]
	fs := newFlags("sg rule")
	var spec netctl.RuleSpec
	fs.StringVar(&spec.Direction, "direction", "ingress", "ingress (to the NIC) or egress (from it)")
	fs.StringVar(&spec.EtherType, "ethertype", "", "ipv4 or ipv6 (default: the CIDR's family, else ipv4)")
	fs.StringVar(&spec.Proto, "ip-proto", "", "tcp, udp, icmp, icmpv6, all or a protocol number")
	fs.StringVar(&spec.Port, "port", "", "destination port or range N-M (tcp, udp)")
	fs.StringVar(&spec.ICMP, "icmp", "", "ICMP type, or TYPE/CODE (icmp, icmpv6)")
	fs.StringVar(&spec.CIDR, "cidr", "", "the remote prefix: source of ingress, destination of egress")
	fs.StringVar(&spec.Members, "sg-members", "", "the remote side is this group's members' addresses")
	if err := parse(fs, args[2:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	r, err := netctl.NewRule(spec)
	if err != nil {
		return usageError{err}
	}
	if op == "add" {
		return e.change(func(st *netctl.State) error { return st.AddRule(id, r) })
	}
	return e.change(func(st *netctl.State) error { return st.DelRule(id, r) })
}

func (e *env) sgAdd(args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usagef("usage: netctl sg add SG [--no-default-egress]")
	}
	id := args[0]
	fs := newFlags("sg add")
	bare := fs.Bool("no-default-egress", false, "create the group without its default allow-all egress rules")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	return e.change(func(st *netctl.State) error { return st.AddSG(id, *bare) })
}

func (e *env) sync(names []string) error {
	var st *netctl.State
	if e.etcd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		defer cancel()
		var err error
		if st, err = e.etcd.Load(ctx); err != nil {
			return err
		}
	} else {
		store, s, err := netctl.Open(e.statePath)
		if err != nil {
			return err
		}
		defer store.Close()
		st = s
	}
	if len(names) == 0 {
		names = st.SwitchNames()
	}
	for _, n := range names {
		if st.Switches[n] == nil {
			return fmt.Errorf("switch %q is not known", n)
		}
	}
	return e.push(st, names)
}

func (e *env) status(args []string) error {
	fs := newFlags("status")
	dot := fs.Bool("dot", false, "print a Graphviz graph")
	if err := parse(fs, args); err != nil {
		return err
	}
	return e.list(func(st *netctl.State) {
		if *dot {
			st.WriteDot(os.Stdout)
		} else {
			st.WriteStatus(os.Stdout)
		}
	})
}
