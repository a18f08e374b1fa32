package switchd

import (
	"strings"
	"testing"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/ofproto"
	"github.com/goko-net/goko/openflow"
)

func TestWriteMetrics(t *testing.T) {
	s := ofproto.Snapshot{
		Bridge:   "br0",
		Datapath: datapath.Stats{Packets: 10, Misses: 2},
		Ports:    []ofproto.PortSnapshot{{No: 1, Name: "veth1", LinkUp: true, Stats: datapath.PortStats{RxPackets: 7}}},
		Tables:   []ofproto.TableSnapshot{{ID: 0, Flows: 3, Lookups: 10, Matches: 9}},
		Programs: []openflow.GokoFilterProgInfo{{ProgID: 4, Name: "f", Runs: 5, Matches: 2, RunNs: 500}},
	}
	var b strings.Builder
	writeMetrics(&b, []ofproto.Snapshot{s})
	out := b.String()
	for _, want := range []string{
		"# TYPE goko_datapath_packets_total counter\n",
		`goko_datapath_packets_total{bridge="br0"} 10`,
		`goko_port_rx_packets_total{bridge="br0",port="1",name="veth1"} 7`,
		`goko_port_up{bridge="br0",port="1",name="veth1"} 1`,
		`goko_table_flows{bridge="br0",table="0"} 3`,
		`goko_filter_runs_total{bridge="br0",prog="4",name="f"} 5`,
		`goko_filter_run_nanoseconds_total{bridge="br0",prog="4",name="f"} 500`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "# TYPE goko_port_rx_packets_total"); n != 1 {
		t.Errorf("family announced %d times", n)
	}
}
