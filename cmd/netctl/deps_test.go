package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps netctl off the ofctl CLI package: it talks to
// switches through ofclient, so bin/netctl must link neither ctl nor the
// filter-program machinery ctl brings (ubpf, cilium/ebpf).
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	for _, pkg := range []string{".", "../../netctl"} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed only %v", pkg, deps)
		}
		for _, d := range deps {
			switch {
			case d == "github.com/goko-net/goko/ctl", strings.HasPrefix(d, "github.com/goko-net/goko/ctl/"),
				d == "github.com/goko-net/goko/ubpf", strings.HasPrefix(d, "github.com/goko-net/goko/ubpf/"),
				strings.HasPrefix(d, "github.com/cilium/ebpf"):
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
}
