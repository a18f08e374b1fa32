package ofproto

import (
	"net/netip"
	"testing"

	"github.com/goko-net/goko/openflow"
)

// TestTableFull: a table holds at most Config.MaxFlows rules; one more is
// refused with OFPFMFC_TABLE_FULL, replacing an existing rule is not an
// addition, other tables are not affected, a delete makes room, and
// TABLE_FEATURES reports the limit as max_entries.
func TestTableFull(t *testing.T) {
	ts := newTestSwitchConfig(t, 2, Config{Name: "br0", DatapathID: 0x1, MaxFlows: 3})
	flow := func(table uint8, last byte) *openflow.FlowMod {
		dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, last}), 32)
		fm := addFlow(10, openflow.NewMatch(openflow.OXMEthTypeVal(0x0800), openflow.OXMAddrVal(openflow.OXMIPv4Dst, dst)), output(2))
		fm.TableID = table
		return fm
	}
	steps := []struct {
		name string
		fm   *openflow.FlowMod
		want openflow.ErrorCode // 0: accepted
	}{
		{"first", flow(0, 1), 0},
		{"second", flow(0, 2), 0},
		{"third", flow(0, 3), 0},
		{"fourth", flow(0, 4), openflow.FMFCTableFull},
		{"replace an existing rule", flow(0, 3), 0},
		{"another table", flow(1, 4), 0},
		{"delete one", &openflow.FlowMod{Command: openflow.FlowDeleteStrict, Priority: 10, Match: flow(0, 1).Match,
			OutPort: openflow.PortAny, OutGroup: openflow.GroupAny}, 0},
		{"fourth again", flow(0, 4), 0},
		{"fifth", flow(0, 5), openflow.FMFCTableFull},
	}
	for _, st := range steps {
		e := ts.flowMod(st.fm)
		switch {
		case st.want == 0 && e != nil:
			t.Fatalf("%s: refused with %v", st.name, e.Code)
		case st.want != 0 && (e == nil || e.Code != st.want):
			t.Fatalf("%s: got %v, want %v", st.name, e, st.want)
		}
	}
	for _, r := range ts.request(&openflow.MultipartRequest{Body: &openflow.TableFeaturesRequest{}}) {
		for _, tf := range r.(*openflow.MultipartReply).Body.(*openflow.TableFeaturesReply).Tables {
			if tf.MaxEntries != 3 {
				t.Fatalf("table %d: max_entries %d, want 3", tf.TableID, tf.MaxEntries)
			}
		}
	}
}
