package switchd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/ofproto"
	"github.com/goko-net/goko/openflow"
)

func sampleSnapshot() ofproto.Snapshot {
	return ofproto.Snapshot{
		Bridge:   "br0",
		Datapath: datapath.Stats{Packets: 10, Misses: 2},
		Ports:    []ofproto.PortSnapshot{{No: 1, Name: "veth1", LinkUp: true, Stats: datapath.PortStats{RxPackets: 7}}},
		Tables:   []ofproto.TableSnapshot{{ID: 0, Flows: 3, Lookups: 10, Matches: 9}},
		Programs: []openflow.GokoFilterProgInfo{{ProgID: 4, Name: "f", Runs: 5, Matches: 2, RunNs: 500}},
		PMDs: []datapath.PMDStats{{PMD: 0, Packets: 10, EMCHits: 3, MegaflowHits: 5, Misses: 2, Upcalls: 2, Megaflows: 1},
			{PMD: 1, Packets: 4000000000, LostUpcalls: 7}},
	}
}

func TestWriteMetrics(t *testing.T) {
	var b strings.Builder
	writeMetrics(&b, []ofproto.Snapshot{sampleSnapshot()})
	out := b.String()
	for _, want := range []string{
		"# TYPE goko_datapath_packets_total counter\n",
		`goko_datapath_packets_total{bridge="br0"} 10`,
		`goko_port_rx_packets_total{bridge="br0",port="1",name="veth1"} 7`,
		`goko_port_up{bridge="br0",port="1",name="veth1"} 1`,
		`goko_table_flows{bridge="br0",table="0"} 3`,
		`goko_filter_runs_total{bridge="br0",prog="4",name="f"} 5`,
		`goko_filter_run_seconds_total{bridge="br0",prog="4",name="f"} 5e-07`,
		`goko_pmd_emc_hits_total{bridge="br0",pmd="0"} 3`,
		`goko_pmd_megaflow_hits_total{bridge="br0",pmd="0"} 5`,
		`goko_pmd_upcalls_total{bridge="br0",pmd="0"} 2`,
		`goko_pmd_lost_upcalls_total{bridge="br0",pmd="1"} 7`,
		`goko_pmd_packets_total{bridge="br0",pmd="1"} 4000000000`,
		`goko_pmd_megaflows{bridge="br0",pmd="0"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "# TYPE goko_port_rx_packets_total"); n != 1 {
		t.Errorf("family announced %d times", n)
	}
}

// TestMetricsPromtool runs Prometheus's own checker (promtool check
// metrics, Debian package prometheus) on the output, filter programs and
// several pmds included. CI installs promtool; elsewhere the test skips.
func TestMetricsPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	var b strings.Builder
	s2 := sampleSnapshot()
	s2.Bridge = "br1"
	writeMetrics(&b, []ofproto.Snapshot{sampleSnapshot(), s2})
	f := filepath.Join(t.TempDir(), "metrics")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	in, _ := os.Open(f)
	defer in.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = in
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s\n---\n%s", err, out, b.String())
	}
}
