package ctl

import (
	"strings"
	"testing"

	"github.com/goko-net/goko/ctl/internal/fakeswitch"
	"github.com/goko-net/goko/openflow"
)

func TestGroupsAndMeters(t *testing.T) {
	sw := fakeswitch.New()
	dir := startSwitch(t, sw)
	must := func(args ...string) string {
		t.Helper()
		out, errs, code := ofctl(t, dir, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out
	}
	must("add-group", "br0", "group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=output:2")
	must("add-group", "br0", "group_id=2,type=ff,bucket=watch_port:p1,actions=output:1,bucket=watch_group:1,actions=group:1")
	must("add-groups", "br0", "-")
	out := must("dump-groups", "br0")
	want := "OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):\n" +
		" group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=actions=output:2\n" +
		" group_id=2,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_group:1,actions=group:1\n"
	if out != want {
		t.Errorf("dump-groups:\n got %q\nwant %q", out, want)
	}
	if out := must("dump-groups", "br0", "group_id=2"); !strings.Contains(out, "group_id=2") || strings.Contains(out, "group_id=1,") {
		t.Errorf("dump-groups group_id=2: %q", out)
	}
	must("mod-group", "br0", "group_id=1,type=all,bucket=actions=output:3")
	if g := sw.Groups(); g[0].GroupType != openflow.GroupTypeAll || len(g[0].Buckets) != 1 {
		t.Errorf("after mod-group: %+v", g)
	}
	out = must("dump-group-stats", "br0", "1")
	if want := "OFPST_GROUP reply (OF1.3) (xid=0x6):\n group_id=1,duration=1s,ref_count=0,packet_count=10,byte_count=1000,bucket0:packet_count=5,byte_count=500\n"; out != want {
		t.Errorf("dump-group-stats:\n got %q\nwant %q", out, want)
	}
	_, errs, code := ofctl(t, dir, "", "add-group", "br0", "group_id=1,type=all,bucket=actions=drop")
	if code != 1 || !strings.Contains(errs, "OFPGMFC_GROUP_EXISTS") || !strings.Contains(errs, "group: group_id=1,type=all") {
		t.Errorf("duplicate add-group: exit %d, %q", code, errs)
	}
	if _, errs, code := ofctl(t, dir, "", "add-group", "br0", "group_id=5,type=ff,bucket=actions=output:1"); code != 2 || !strings.Contains(errs, "watch_port or watch_group") {
		t.Errorf("ff without watch: exit %d, %q", code, errs)
	}
	must("del-groups", "br0", "group_id=2")
	if g := sw.Groups(); len(g) != 1 {
		t.Errorf("after del-groups group_id=2: %+v", g)
	}
	must("del-groups", "br0")
	if g := sw.Groups(); len(g) != 0 {
		t.Errorf("after del-groups: %+v", g)
	}

	must("add-meter", "br0", "meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100")
	must("add-meter", "br0", "meter=2,pktps,bands=type=drop,rate=10,type=dscp_remark,rate=5,prec_level=1")
	out = must("dump-meters", "br0")
	want = "OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):\nmeter=1 kbps burst stats bands=\ntype=drop rate=1000 burst_size=100\n\n" +
		"meter=2 pktps bands=\ntype=drop rate=10\ntype=dscp_remark rate=5 prec_level=1\n"
	if out != want {
		t.Errorf("dump-meters:\n got %q\nwant %q", out, want)
	}
	out = must("meter-stats", "br0", "meter=2")
	if want := "OFPST_METER reply (OF1.3) (xid=0x2):\nmeter:2 flow_count:1 packet_in_count:7 byte_in_count:700 duration:2s bands:\n0: packet_count:1 byte_count:100\n1: packet_count:1 byte_count:100\n"; out != want {
		t.Errorf("meter-stats:\n got %q\nwant %q", out, want)
	}
	must("mod-meter", "br0", "meter=1,pktps,band=type=drop,rate=5")
	if m := sw.Meters(); m[0].Flags != openflow.MeterFlagPktps || m[0].Bands[0].Rate != 5 {
		t.Errorf("after mod-meter: %+v", m)
	}
	if _, errs, code := ofctl(t, dir, "", "add-meter", "br0", "meter=3,band=type=drop,rate=5"); code != 2 || !strings.Contains(errs, "kbps or pktps") {
		t.Errorf("meter without unit: exit %d, %q", code, errs)
	}
	// Groups and meters in flows.
	must("add-flow", "br0", "actions=meter:2,group:1")
	if out := must("--no-stats", "dump-flows", "br0"); out != " actions=meter:2,group:1\n" {
		t.Errorf("flow with meter and group: %q", out)
	}
	must("del-meters", "br0", "meter=2")
	must("del-meters", "br0")
	if m := sw.Meters(); len(m) != 0 {
		t.Errorf("after del-meters: %+v", m)
	}
	out = must("--json", "dump-meters", "br0")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("dump-meters --json with no meters: %q", out)
	}
}

func TestGroupMeterJSON(t *testing.T) {
	sw := fakeswitch.New()
	dir := startSwitch(t, sw)
	for _, a := range [][]string{
		{"add-group", "br0", "group_id=7,type=ff,bucket=watch_port:LOCAL,actions=output:1"},
		{"add-meter", "br0", "meter=3,kbps,band=type=dscp_remark,rate=9,prec_level=2"},
	} {
		if _, errs, code := ofctl(t, dir, "", a...); code != 0 {
			t.Fatalf("%v: %s", a, errs)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dump-groups", "br0"}, `"watch_port": "LOCAL"`},
		{[]string{"dump-group-stats", "br0"}, `"buckets": [`},
		{[]string{"dump-meters", "br0"}, `"prec_level": 2`},
		{[]string{"meter-stats", "br0"}, `"meter_id": "3"`},
		{[]string{"meter-features", "br0"}, `"band_types": [`},
		{[]string{"dump-group-features", "br0"}, `"max_groups": 1000`},
		{[]string{"dump-table-features", "br0"}, `"next_tables": [`},
	} {
		out, errs, code := ofctl(t, dir, "", append([]string{"--json"}, tc.args...)...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("--json %v: exit %d %s\n%s", tc.args, code, errs, out)
		}
	}
}
