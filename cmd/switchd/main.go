// Command switchd is the goko switch daemon. See README.md and
// docs/config.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/goko-net/goko/internal/version"
	"github.com/goko-net/goko/ofproto"
	"github.com/goko-net/goko/switchd"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "switchd:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := pflag.NewFlagSet("switchd", pflag.ContinueOnError)
	fs.SortFlags = false
	var (
		configFile  = fs.String("config", "", "YAML configuration file (see docs/config.md)")
		bridge      = fs.String("bridge", "", "bridge name (a bridge given by flags is added to the config file's)")
		dpid        = fs.String("datapath-id", "", "datapath id, hex (0x...) or decimal (default: derived from the bridge name)")
		ports       = fs.StringArray("port", nil, "port: [NUMBER=]IFNAME (kernel interface), [NUMBER=]dpdk:DEVARGS or\n[NUMBER=]vxlan:local_ip=IP[/LEN],remote_ip=IP|flow,underlay=IFNAME[,gateway=IP]; repeatable")
		neighbors   = fs.StringArray("neighbor", nil, "static next hop of vxlan underlays, IP=MAC; repeatable")
		controllers = fs.StringArray("controller", nil, "active controller: tcp:HOST[:PORT], ssl:HOST[:PORT] or unix:PATH; repeatable")
		listen      = fs.StringArray("listen", nil, "passive OpenFlow listener: ptcp:[PORT][:IP], pssl:[PORT][:IP] (IP defaults to 127.0.0.1) or punix:PATH; repeatable")
		failMode    = fs.String("fail-mode", "", "what the bridge does without a controller: secure (the default: flows stay and keep forwarding); standalone is not supported")
		privKey     = fs.String("private-key", "", "PEM private key of the switch, for ssl: and pssl:")
		cert        = fs.String("certificate", "", "PEM certificate of the switch, for ssl: and pssl:")
		caCert      = fs.String("ca-cert", "", "PEM certificate of the CA that signs controllers' certificates, for ssl: and pssl:")
		runDir      = fs.String("run-dir", "", "directory of the management sockets (default /run/goko)")
		logLevel    = fs.String("log-level", "", "debug, info, warn or error (default info); ofctl set-log-level changes it while switchd runs")
		hugepages   = fs.Bool("dpdk-hugepages", false, "use hugepages instead of --no-huge (they must be reserved and mounted)")
		memMB       = fs.Int("dpdk-memory", 0, "DPDK memory in MB (default 512)")
		prefix      = fs.String("dpdk-file-prefix", "", "DPDK file prefix (default goko-<pid>)")
		pci         = fs.Bool("dpdk-pci", false, "scan the PCI bus for NICs bound to vfio-pci")
		ealArgs     = fs.StringArray("dpdk-arg", nil, "extra EAL argument; repeatable")
		metrics     = fs.String("metrics", "", "serve Prometheus metrics (datapath, ports, tables, filter programs) on HOST:PORT")
		pmds        = fs.Int("pmds", 0, "poll-mode threads per bridge (default 1); receive queues are spread over them")
		flowLimit   = fs.Int("flow-limit", 0, "most megaflows cached per bridge (default 200000); past it new flows are forwarded uncached")
		emcInv      = fs.Int("emc-insert-inv-prob", 0, "insert one in N megaflow hits into the exact-match cache (default 100); 0 turns the EMC off, as in OVS")
		maxFlows    = fs.Int("max-flows", 0, fmt.Sprintf("flows per table at most (default %d); one more fails with OFPFMFC_TABLE_FULL", ofproto.DefaultMaxFlows))
		runBudget   = fs.Int("filter-run-budget", 0, "instructions one run of a filter program may execute, unless loaded with its own (default 1048576)")
		mapMemMB    = fs.Int("filter-map-memory", 0, "MB the maps of one filter program load may take together (default 1024)")
		mbufs       = fs.Int("dpdk-mbufs", 0, "packet buffers in the DPDK pool (default 16383; a net_pcap port with infinite_rx needs one per captured packet)")
		vm          = fs.String("vm", "", "filter program engine: jit, interp or auto (default auto: the JIT on linux/amd64)")
		showVersion = fs.BoolP("version", "V", false, "print switchd's version (from its build information) and exit")
	)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: switchd [--config FILE] [--bridge NAME --port ... --listen ... --controller ...]\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == pflag.ErrHelp {
			return nil
		}
		return err
	}
	if *showVersion {
		fmt.Println(version.Line("switchd"))
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	var cfg switchd.Config
	if *configFile != "" {
		var err error
		if cfg, err = switchd.LoadConfig(*configFile); err != nil {
			return err
		}
	}
	if *bridge != "" {
		cfg.Bridges = append(cfg.Bridges, switchd.BridgeConfig{
			Name: *bridge, DatapathID: *dpid, Ports: *ports, Controllers: *controllers, Listen: *listen,
			Neighbors: *neighbors, FailMode: *failMode,
		})
	} else if *dpid != "" || len(*ports) > 0 || len(*controllers) > 0 || len(*listen) > 0 || len(*neighbors) > 0 || *failMode != "" {
		return fmt.Errorf("--datapath-id, --port, --neighbor, --controller, --listen and --fail-mode need --bridge")
	}
	set := func(name string, apply func()) {
		if fs.Changed(name) {
			apply()
		}
	}
	set("run-dir", func() { cfg.RunDir = *runDir })
	set("log-level", func() { cfg.LogLevel = *logLevel })
	set("dpdk-hugepages", func() { cfg.DPDK.Hugepages = *hugepages })
	set("dpdk-memory", func() { cfg.DPDK.MemoryMB = *memMB })
	set("dpdk-file-prefix", func() { cfg.DPDK.FilePrefix = *prefix })
	set("dpdk-pci", func() { cfg.DPDK.PCI = *pci })
	set("dpdk-arg", func() { cfg.DPDK.ExtraArgs = append(cfg.DPDK.ExtraArgs, *ealArgs...) })
	set("dpdk-mbufs", func() { cfg.DPDK.Mbufs = *mbufs })
	set("pmds", func() { cfg.PMDs = *pmds })
	set("flow-limit", func() { cfg.FlowLimit = *flowLimit })
	set("emc-insert-inv-prob", func() { cfg.EMCInsertInvProb = emcInv })
	set("metrics", func() { cfg.Metrics = *metrics })
	set("max-flows", func() { cfg.MaxFlows = *maxFlows })
	set("private-key", func() { cfg.SSL.PrivateKey = *privKey })
	set("certificate", func() { cfg.SSL.Certificate = *cert })
	set("ca-cert", func() { cfg.SSL.CACert = *caCert })
	set("filter-run-budget", func() { cfg.Filters.RunBudget = *runBudget })
	set("filter-map-memory", func() { cfg.Filters.MapMemoryMB = *mapMemMB })
	set("vm", func() { cfg.Filters.VM = *vm })

	var level slog.Level
	if cfg.LogLevel != "" {
		if err := level.UnmarshalText([]byte(strings.ToLower(cfg.LogLevel))); err != nil {
			return fmt.Errorf("log level %q: want debug, info, warn or error", cfg.LogLevel)
		}
	}
	// A LevelVar, so that ofctl set-log-level can change it at run time.
	cfg.Level = new(slog.LevelVar)
	cfg.Level.Set(level)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.Level}))
	slog.SetDefault(log)
	if os.Geteuid() != 0 {
		log.Warn("not running as root: DPDK ports and /run/goko will likely fail")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return switchd.Run(ctx, cfg, log)
}
