package ctl

import (
	"strings"
	"testing"

	"github.com/goko-net/goko/ctl/internal/fakeswitch"
	"github.com/goko-net/goko/openflow"
)

// TestNormalHint: a flow to NORMAL that the switch refuses (as goko does,
// with OFPBAC_BAD_OUT_PORT) gets advice; other refusals do not.
func TestNormalHint(t *testing.T) {
	sw := fakeswitch.New()
	sw.Reject = func(fm *openflow.FlowMod) (openflow.ErrorCode, bool) {
		return openflow.BACBadOutPort, outputsTo(fm, openflow.PortNormal) || fm.Priority == 7
	}
	dir := startSwitch(t, sw)
	for _, tc := range []struct {
		flow string
		hint bool
	}{
		{"priority=10,actions=NORMAL", true},
		{"priority=10,actions=write_actions(output:normal)", true},
		{"priority=7,actions=output:9", false},
	} {
		_, errs, code := ofctl(t, dir, "", "add-flow", "br0", tc.flow)
		if code != ExitFailed || !strings.Contains(errs, "OFPBAC_BAD_OUT_PORT") {
			t.Errorf("%s: code %d, stderr:\n%s", tc.flow, code, errs)
		}
		if got := strings.Contains(errs, "simple_switch_13"); got != tc.hint {
			t.Errorf("%s: hint shown %v, want %v:\n%s", tc.flow, got, tc.hint, errs)
		}
	}
}
