package switchd

// Metrics in the Prometheus text format, for monitoring systems: one
// scrape collects every bridge's counters (datapath, ports, tables, filter
// programs). The endpoint is off unless --metrics gives an address.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/ofproto"
	"github.com/goko-net/goko/openflow"
)

func (d *Daemon) serveMetrics(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		var snaps []ofproto.Snapshot
		for _, br := range d.bridges {
			snaps = append(snaps, br.of.Snapshot())
		}
		writeMetrics(w, snaps)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics server", "err", err)
		}
	}()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		<-ctx.Done()
		srv.Close()
	}()
	d.log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return nil
}

// metric is one sample of a family.
type metric struct {
	labels string // extra labels, each starting with a comma
	value  float64
}

// family is a metric family and how to read its samples off a snapshot.
type family struct {
	name, typ, help string
	samples         func(s *ofproto.Snapshot) []metric
}

func one(v func(s *ofproto.Snapshot) uint64) func(*ofproto.Snapshot) []metric {
	return func(s *ofproto.Snapshot) []metric { return []metric{{"", float64(v(s))}} }
}

func perPort(v func(p *ofproto.PortSnapshot) uint64) func(*ofproto.Snapshot) []metric {
	return func(s *ofproto.Snapshot) []metric {
		var out []metric
		for i := range s.Ports {
			p := &s.Ports[i]
			out = append(out, metric{fmt.Sprintf(",port=\"%d\",name=%s", p.No, strconv.Quote(p.Name)), float64(v(p))})
		}
		return out
	}
}

func perTable(v func(t *ofproto.TableSnapshot) uint64) func(*ofproto.Snapshot) []metric {
	return func(s *ofproto.Snapshot) []metric {
		var out []metric
		for i := range s.Tables {
			out = append(out, metric{fmt.Sprintf(",table=\"%d\"", s.Tables[i].ID), float64(v(&s.Tables[i]))})
		}
		return out
	}
}

func perProgram(v func(p *openflow.GokoFilterProgInfo) float64) func(*ofproto.Snapshot) []metric {
	return func(s *ofproto.Snapshot) []metric {
		var out []metric
		for i := range s.Programs {
			p := &s.Programs[i]
			out = append(out, metric{fmt.Sprintf(",prog=\"%d\",name=%s", p.ProgID, strconv.Quote(p.Name)), v(p)})
		}
		return out
	}
}

func perPMD(v func(p *datapath.PMDStats) uint64) func(*ofproto.Snapshot) []metric {
	return func(s *ofproto.Snapshot) []metric {
		var out []metric
		for i := range s.PMDs {
			out = append(out, metric{fmt.Sprintf(",pmd=\"%d\"", s.PMDs[i].PMD), float64(v(&s.PMDs[i]))})
		}
		return out
	}
}

var families = []family{
	{"goko_datapath_packets_total", "counter", "Packets received by the datapath.", one(func(s *ofproto.Snapshot) uint64 { return s.Datapath.Packets })},
	{"goko_datapath_misses_total", "counter", "Packets that missed both cache levels and were translated.", one(func(s *ofproto.Snapshot) uint64 { return s.Datapath.Misses })},
	{"goko_datapath_upcall_drops_total", "counter", "Packets dropped by the upcall rate limit.", one(func(s *ofproto.Snapshot) uint64 { return s.Datapath.UpcallDrops })},
	{"goko_datapath_megaflows", "gauge", "Megaflows cached now, all pmds together.", one(func(s *ofproto.Snapshot) uint64 { return s.Datapath.Megaflows })},
	{"goko_datapath_flow_limit", "gauge", "The most megaflows the datapath caches (--flow-limit).", one(func(s *ofproto.Snapshot) uint64 { return s.Datapath.FlowLimit })},
	{"goko_datapath_flow_limit_hits_total", "counter", "Translations forwarded but not cached because the flow limit was reached.", one(func(s *ofproto.Snapshot) uint64 { return s.Datapath.FlowLimitHits })},
	{"goko_port_rx_packets_total", "counter", "Packets received on a port.", perPort(func(p *ofproto.PortSnapshot) uint64 { return p.Stats.RxPackets })},
	{"goko_port_tx_packets_total", "counter", "Packets sent on a port.", perPort(func(p *ofproto.PortSnapshot) uint64 { return p.Stats.TxPackets })},
	{"goko_port_rx_bytes_total", "counter", "Bytes received on a port.", perPort(func(p *ofproto.PortSnapshot) uint64 { return p.Stats.RxBytes })},
	{"goko_port_tx_bytes_total", "counter", "Bytes sent on a port.", perPort(func(p *ofproto.PortSnapshot) uint64 { return p.Stats.TxBytes })},
	{"goko_port_rx_dropped_total", "counter", "Packets dropped on receive.", perPort(func(p *ofproto.PortSnapshot) uint64 { return p.Stats.RxDropped })},
	{"goko_port_tx_dropped_total", "counter", "Packets dropped on transmit.", perPort(func(p *ofproto.PortSnapshot) uint64 { return p.Stats.TxDropped })},
	{"goko_port_up", "gauge", "1 if the port's link is up.", perPort(func(p *ofproto.PortSnapshot) uint64 {
		if p.LinkUp {
			return 1
		}
		return 0
	})},
	{"goko_table_flows", "gauge", "Flows in a table.", perTable(func(t *ofproto.TableSnapshot) uint64 { return uint64(t.Flows) })},
	{"goko_table_lookups_total", "counter", "Lookups in a table.", perTable(func(t *ofproto.TableSnapshot) uint64 { return t.Lookups })},
	{"goko_table_matches_total", "counter", "Lookups in a table that found a flow.", perTable(func(t *ofproto.TableSnapshot) uint64 { return t.Matches })},
	{"goko_filter_runs_total", "counter", "Runs of a filter program.", perProgram(func(p *openflow.GokoFilterProgInfo) float64 { return float64(p.Runs) })},
	{"goko_filter_matches_total", "counter", "Runs of a filter program that matched.", perProgram(func(p *openflow.GokoFilterProgInfo) float64 { return float64(p.Matches) })},
	{"goko_filter_errors_total", "counter", "Runs stopped by a run-time fault (counted as no match).", perProgram(func(p *openflow.GokoFilterProgInfo) float64 { return float64(p.Errors) })},
	{"goko_filter_run_seconds_total", "counter", "Time spent running a filter program; divided by its runs, the time per run.", perProgram(func(p *openflow.GokoFilterProgInfo) float64 { return float64(p.RunNs) / 1e9 })},
	{"goko_pmd_packets_total", "counter", "Packets a poll-mode thread received.", perPMD(func(p *datapath.PMDStats) uint64 { return p.Packets })},
	{"goko_pmd_emc_hits_total", "counter", "Packets found in a poll-mode thread's exact-match cache.", perPMD(func(p *datapath.PMDStats) uint64 { return p.EMCHits })},
	{"goko_pmd_megaflow_hits_total", "counter", "Packets found in a poll-mode thread's megaflow cache.", perPMD(func(p *datapath.PMDStats) uint64 { return p.MegaflowHits })},
	{"goko_pmd_misses_total", "counter", "Packets that missed both caches of a poll-mode thread.", perPMD(func(p *datapath.PMDStats) uint64 { return p.Misses })},
	{"goko_pmd_upcalls_total", "counter", "Cache misses a poll-mode thread translated.", perPMD(func(p *datapath.PMDStats) uint64 { return p.Upcalls })},
	{"goko_pmd_lost_upcalls_total", "counter", "Cache misses dropped over the upcall rate limit.", perPMD(func(p *datapath.PMDStats) uint64 { return p.LostUpcalls })},
	{"goko_pmd_megaflows", "gauge", "Megaflows a poll-mode thread has cached.", perPMD(func(p *datapath.PMDStats) uint64 { return p.Megaflows })},
}

// formatSample prints counts as integers and other values (seconds) in
// the shortest exact form.
func formatSample(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// writeMetrics renders snapshots, each family announced once.
func writeMetrics(w io.Writer, snaps []ofproto.Snapshot) {
	for _, f := range families {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.typ)
		for i := range snaps {
			for _, m := range f.samples(&snaps[i]) {
				fmt.Fprintf(w, "%s{bridge=%s%s} %s\n", f.name, strconv.Quote(snaps[i].Bridge), m.labels, formatSample(m.value))
			}
		}
	}
}
