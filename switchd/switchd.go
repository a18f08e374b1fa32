package switchd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/dpdk"
	"github.com/goko-net/goko/ofproto"
	"github.com/goko-net/goko/ubpf"
)

// Daemon is a running switchd.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	eal     *dpdk.EAL
	bridges []*bridge
	wg      sync.WaitGroup
	vdevSeq map[string]int // next instance number per DPDK driver name
	tls     *tls.Config    // for ssl: and pssl: targets; nil when there is none
	mu      sync.Mutex     // guards vdevSeq and EAL port opening
}

type bridge struct {
	cfg       BridgeConfig
	of        *ofproto.Bridge
	dp        *datapath.Datapath
	listeners []net.Listener
	mgmtPath  string
	underlays map[string]*underlayPort // vxlan underlays by interface; guarded by Daemon.mu
}

// Run starts everything cfg describes and blocks until ctx is cancelled,
// then shuts down cleanly: connections closed, ports stopped and freed,
// DPDK's runtime directory removed.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	d := &Daemon{cfg: cfg, log: log, vdevSeq: map[string]int{}}
	ctx, cancel := context.WithCancel(ctx)
	defer d.shutdown() // deferred first, so it runs after cancel
	defer cancel()
	if err := d.start(ctx); err != nil {
		return err
	}
	log.Info("switchd running", "bridges", len(d.bridges))
	<-ctx.Done()
	log.Info("switchd stopping")
	return nil
}

func (d *Daemon) start(ctx context.Context) error {
	if err := d.preflight(); err != nil {
		return err
	}
	if !d.cfg.SSL.Empty() {
		cfg, err := d.cfg.SSL.Config()
		if err != nil {
			return err
		}
		d.tls = cfg
	}
	needDPDK := false
	for _, b := range d.cfg.Bridges {
		needDPDK = needDPDK || len(b.Ports) > 0
	}
	if needDPDK {
		eal, err := dpdk.Init(dpdk.EALConfig{
			FilePrefix: d.cfg.DPDK.FilePrefix,
			MemoryMB:   d.cfg.DPDK.MemoryMB,
			Hugepages:  d.cfg.DPDK.Hugepages,
			PCI:        d.cfg.DPDK.PCI,
			ExtraArgs:  d.cfg.DPDK.ExtraArgs,
			Mbufs:      d.cfg.DPDK.Mbufs,
		})
		if err != nil {
			return fmt.Errorf("start DPDK: %w", err)
		}
		d.eal = eal
		d.log.Info("DPDK initialised", "args", eal.Args())
	}
	if err := os.MkdirAll(d.cfg.RunDir, 0o755); err != nil {
		return fmt.Errorf("run dir: %w", err)
	}
	for _, bc := range d.cfg.Bridges {
		if err := d.startBridge(ctx, bc); err != nil {
			return fmt.Errorf("bridge %s: %w", bc.Name, err)
		}
	}
	if d.cfg.Metrics != "" {
		if err := d.serveMetrics(ctx, d.cfg.Metrics); err != nil {
			return err
		}
	}
	return nil
}

func (d *Daemon) startBridge(ctx context.Context, bc BridgeConfig) error {
	dpid := defaultDatapathID(bc.Name)
	if bc.DatapathID != "" {
		dpid, _ = ParseDatapathID(bc.DatapathID) // validated already
	}
	log := d.log.With("bridge", bc.Name)
	engine, _ := ubpf.ParseEngine(d.cfg.Filters.VM) // validated already
	mgmt := filepath.Join(d.cfg.RunDir, bc.Name+".mgmt")
	of := ofproto.New(ofproto.Config{Name: bc.Name, DatapathID: dpid, Logger: d.log, MaxFlows: d.cfg.MaxFlows,
		FilterRunBudget: d.cfg.Filters.RunBudget, FilterMapMemory: uint64(d.cfg.Filters.MapMemoryMB) << 20,
		LogLevel: d.cfg.Level, ManagementSocket: mgmt, Engine: engine})
	dpCfg := datapath.Config{Name: bc.Name, Translator: of, Upcaller: of, Logger: d.log, PMDs: d.cfg.PMDs,
		FlowLimit: d.cfg.FlowLimit}
	if p := d.cfg.EMCInsertInvProb; p != nil {
		dpCfg.EMCInsertInv = *p
		if *p == 0 {
			dpCfg.EMCInsertInv = -1 // off
		}
	}
	if d.eal != nil {
		dpCfg.ThreadInit, dpCfg.ThreadExit = dpdk.RegisterThread, dpdk.UnregisterThread
	}
	dp := datapath.New(dpCfg)
	of.SetDatapath(dp)
	br := &bridge{cfg: bc, of: of, dp: dp, underlays: map[string]*underlayPort{}}
	d.bridges = append(d.bridges, br)
	if err := dp.Start(); err != nil {
		return err
	}
	d.wg.Add(1)
	go func() { defer d.wg.Done(); of.Run(ctx) }()

	for _, ps := range bc.Ports {
		spec, _ := ParsePortSpec(ps) // validated already
		if err := d.openPort(br, spec); err != nil {
			// One bad port must not take the others down: report it and
			// keep retrying, since the interface may appear later.
			log.Error("port not added; retrying every 5s", "port", spec.String(), "err", err)
			d.wg.Add(1)
			go func() { defer d.wg.Done(); d.retryPort(ctx, br, spec) }()
		}
	}

	ln, err := listenUnix(mgmt)
	if err != nil {
		return fmt.Errorf("management socket: %w", err)
	}
	br.mgmtPath = mgmt
	d.serve(br, ln)
	log.Info("management socket", "path", mgmt)
	for _, l := range bc.Listen {
		t, _ := ParseListen(l)
		var ln net.Listener
		var err error
		if t.Network == "unix" {
			ln, err = listenUnix(t.Address)
		} else {
			ln, err = net.Listen(t.Network, t.Address)
		}
		if err != nil {
			return fmt.Errorf("listen %s: %w", l, err)
		}
		if t.TLS {
			ln = tls.NewListener(ln, d.tls)
		} else if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
			log.Warn("listening for OpenFlow beyond loopback without TLS: anyone who reaches this address can program the switch; "+
				"prefer pssl: (with --private-key, --certificate, --ca-cert) or a loopback address", "addr", ln.Addr().String())
		}
		log.Info("listening for OpenFlow", "addr", ln.Addr().String(), "tls", t.TLS)
		d.serve(br, ln)
	}
	for _, c := range bc.Controllers {
		t, _ := ParseController(c)
		d.wg.Add(1)
		go func() { defer d.wg.Done(); d.connect(ctx, br, t) }()
	}
	return nil
}

// listenUnix listens on a Unix socket readable only by root, replacing a
// stale socket file left by a crashed process.
func listenUnix(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s is in use by another process", path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func (d *Daemon) serve(br *bridge, ln net.Listener) {
	br.listeners = append(br.listeners, ln)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		var conns sync.WaitGroup
		defer conns.Wait()
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					d.log.Error("accept", "addr", ln.Addr().String(), "err", err)
				}
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				if tc, ok := c.(*tls.Conn); ok && !d.handshake(tc) {
					return
				}
				br.of.Serve(c)
			}()
		}
	}()
}

// handshakeTimeout bounds a TLS handshake, so that a peer that connects
// and says nothing does not hold a goroutine.
const handshakeTimeout = 10 * time.Second

// handshake runs the TLS handshake of c and logs who the peer is; on
// failure it closes c.
func (d *Daemon) handshake(c *tls.Conn) bool {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	err := c.Handshake()
	c.SetDeadline(time.Time{})
	if err != nil {
		d.log.Warn("TLS handshake failed", "peer", c.RemoteAddr().String(), "err", err)
		c.Close()
		return false
	}
	if certs := c.ConnectionState().PeerCertificates; len(certs) > 0 {
		d.log.Info("TLS peer", "peer", c.RemoteAddr().String(), "subject", certs[0].Subject.String())
	}
	return true
}

// Reconnection backoff, as Open vSwitch's rconn: the wait doubles after
// each failure up to maxBackoff, and starts over only after a session that
// lasted at least the current wait, so a controller that accepts and then
// drops the switch at once (or a failing TLS handshake) is not retried
// every second.
const (
	minBackoff = time.Second
	maxBackoff = 8 * time.Second
)

// nextBackoff returns the wait before the next attempt, after waiting cur
// before this one, whose session (if any) lasted up.
func nextBackoff(cur, up time.Duration) time.Duration {
	if up >= cur {
		return minBackoff
	}
	return min(2*cur, maxBackoff)
}

// connect keeps an active connection to a controller, reconnecting with
// backoff (nextBackoff), until ctx ends. While it is down the switch is in
// fail-secure mode (see FailSecure): flows stay and keep forwarding.
func (d *Daemon) connect(ctx context.Context, br *bridge, t Target) {
	backoff := minBackoff
	log := d.log.With("bridge", br.cfg.Name, "controller", t.String())
	for ctx.Err() == nil {
		var up time.Duration
		c, err := d.dial(ctx, t)
		if err == nil {
			log.Info("connected to controller")
			start := time.Now()
			done := make(chan struct{})
			go func() {
				select {
				case <-ctx.Done():
					c.Close()
				case <-done:
				}
			}()
			br.of.Serve(c)
			close(done)
			up = time.Since(start)
			log.Info("controller connection lost; flows stay (fail-secure)", "up", up.Round(time.Millisecond))
		} else {
			log.Debug("controller connection failed", "err", err, "retry", backoff)
		}
		backoff = nextBackoff(backoff, up)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// dial opens a connection to t, with its TLS handshake for ssl:.
func (d *Daemon) dial(ctx context.Context, t Target) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if t.TLS {
		td := tls.Dialer{Config: d.tls}
		return td.DialContext(dctx, t.Network, t.Address)
	}
	var nd net.Dialer
	return nd.DialContext(dctx, t.Network, t.Address)
}

// openPort opens one configured port and attaches it to the bridge.
func (d *Daemon) openPort(br *bridge, spec PortSpec) error {
	if d.eal == nil {
		return errors.New("DPDK is not initialised")
	}
	var devargs, name string
	switch spec.Kind {
	case PortVXLAN:
		return d.openTunnel(br, spec)
	case PortKernel:
		if _, err := net.InterfaceByName(spec.Name); err != nil {
			return fmt.Errorf("kernel interface %q does not exist", spec.Name)
		}
		devargs = fmt.Sprintf("%s,iface=%s,qpairs=1", d.nextVdev("net_af_packet"), spec.Name)
		name = spec.Name
	case PortDPDK:
		devargs = spec.Name
	}
	d.mu.Lock()
	// One receive and one transmit queue per pmd where the driver offers
	// them: receive queues are spread over the pmds (RSS on NICs, one per
	// source on vdevs that have several), and pmds never share a transmit
	// queue. af_packet has one queue pair per socket, and other drivers
	// may refuse: fewer queues then (shared transmit queues take a lock).
	nq := max(d.cfg.PMDs, 1)
	if spec.Kind == PortKernel {
		nq = 1
	}
	p, err := d.eal.OpenPort(devargs, dpdk.PortOptions{Name: name, RxQueues: nq, TxQueues: nq})
	if err != nil && nq > 1 {
		p, err = d.eal.OpenPort(devargs, dpdk.PortOptions{Name: name, TxQueues: nq})
	}
	if err != nil && nq > 1 {
		p, err = d.eal.OpenPort(devargs, dpdk.PortOptions{Name: name})
	}
	d.mu.Unlock()
	if err != nil && spec.Kind == PortKernel {
		// DPDK 22.11's af_packet joins a PACKET_FANOUT group whose id is
		// its pid XOR the interface index; when that id is taken by
		// another process's port in this namespace (several switchds
		// under Mininet), the kernel refuses and every retry would fail
		// the same way. af_xdp reaches the same interface without it.
		xdp := fmt.Sprintf("%s,iface=%s,start_queue=0,queue_count=1", d.nextVdev("net_af_xdp"), spec.Name)
		d.mu.Lock()
		p, err = d.eal.OpenPort(xdp, dpdk.PortOptions{Name: name})
		d.mu.Unlock()
		if err != nil {
			return fmt.Errorf("kernel interface %s: af_packet failed (see the DPDK log on stderr) and so did af_xdp: %w", spec.Name, err)
		}
		d.log.Warn("af_packet could not attach the interface (its fanout group id, pid XOR ifindex, may be taken by another process's port in this namespace); attached through af_xdp instead",
			"bridge", br.cfg.Name, "port", spec.Name)
		devargs = xdp
	}
	if err != nil {
		return err
	}
	no, err := br.of.AddPort(spec.Number, p)
	if err != nil {
		p.Close()
		return err
	}
	d.log.Info("port added", "bridge", br.cfg.Name, "port", no, "name", p.Info().Name, "devargs", devargs)
	return nil
}

func (d *Daemon) retryPort(ctx context.Context, br *bridge, spec PortSpec) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
		if err := d.openPort(br, spec); err == nil {
			return
		} else {
			d.log.Debug("port still unavailable", "port", spec.String(), "err", err)
		}
	}
}

// nextVdev returns a fresh DPDK vdev name for a driver: vdev names must be
// unique within a process, also across a failed and a retried probe.
func (d *Daemon) nextVdev(driver string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.vdevSeq[driver]
	d.vdevSeq[driver] = n + 1
	return fmt.Sprintf("%s%d", driver, n)
}

func (d *Daemon) shutdown() {
	for _, br := range d.bridges {
		for _, ln := range br.listeners {
			ln.Close()
		}
		br.of.Close()
	}
	d.wg.Wait()
	for _, br := range d.bridges {
		br.dp.Stop()
		if br.mgmtPath != "" {
			os.Remove(br.mgmtPath)
		}
	}
	if d.eal != nil {
		if err := d.eal.Close(); err != nil {
			d.log.Error("DPDK cleanup", "err", err)
		}
	}
}

// defaultDatapathID derives a stable datapath id from the bridge name.
func defaultDatapathID(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64() & 0x0000ffffffffffff
}
