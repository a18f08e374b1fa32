package netctl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/ctl"
	"github.com/goko-net/goko/ofclient"
)

// TestOfctlRoundTrip: on a switch that netctl programmed (tunnel fields,
// ct_reply, ct_commit, metadata masks), what ofctl dump-flows --no-stats
// prints diffs clean against the switch and, given to replace-flows,
// leaves the table as it was.
func TestOfctlRoundTrip(t *testing.T) {
	sockA, sockB := bridge(t, "a"), bridge(t, "b")
	st := model(t, sockA, sockB)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := SyncAll(ctx, st, st.SwitchNames(), ofclient.Options{}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, int) {
		var out, errs bytes.Buffer
		code := ctl.Main(append([]string{"--timeout", "10"}, args...), strings.NewReader(""), &out, &errs)
		return out.String(), errs.String(), code
	}
	all := ""
	for _, sock := range []string{sockA, sockB} {
		target := "unix:" + sock
		dump, errs, code := run("dump-flows", "--no-stats", target)
		if code != 0 {
			t.Fatalf("dump-flows: exit %d: %s", code, errs)
		}
		all += dump
		if strings.Contains(dump, "oxm(") || strings.Contains(dump, "experimenter(") {
			t.Errorf("%s: dump has unnamed fields or actions:\n%s", sock, dump)
		}
		f := filepath.Join(t.TempDir(), "flows")
		if err := os.WriteFile(f, []byte(dump), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, errs, code := run("diff-flows", f, target); code != 0 {
			t.Errorf("%s: diff-flows exit %d:\n%s%s", sock, code, out, errs)
		}
		if out, errs, code := run("replace-flows", target, f); code != 0 {
			t.Errorf("%s: replace-flows exit %d:\n%s%s", sock, code, out, errs)
		}
		after, _, _ := run("dump-flows", "--no-stats", target)
		if after != dump {
			t.Errorf("%s: replace-flows changed the table:\nbefore:\n%s\nafter:\n%s", sock, dump, after)
		}
		// netctl still finds its flows exactly as it wants them.
		res, err := SyncAll(ctx, st, st.SwitchNames(), ofclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Added != 0 || r.Deleted != 0 {
				t.Errorf("netctl sync after replace-flows changed flows: %+v", r)
			}
		}
	}
	for _, want := range []string{"tun_src=192.0.2.", "set_field:192.0.2.", "->tun_dst", "ct_reply=", "ct_commit("} {
		if !strings.Contains(all, want) {
			t.Errorf("no dump has %q:\n%s", want, all)
		}
	}
}
