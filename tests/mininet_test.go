package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mnRunner runs Mininet's own mn runner with its cleanup disabled: on a
// failure mn would clean up, which kills every ping and controller on the
// machine and deletes /tmp/*.log, and this machine is shared.
const mnRunner = `
import runpy, sys
import mininet.clean
mininet.clean.cleanup = lambda *a, **k: None
mininet.clean.Cleanup.cleanup = classmethod(lambda cls, *a: None)
sys.argv = ['mn'] + sys.argv[1:]
runpy.run_path('/usr/bin/mn', run_name='__main__')
`

// TestMininetTree: mn --custom contrib/mininet/goko.py --switch goko
// --topo tree,depth=2 with a learning controller (os-ken) passes pingall.
func TestMininetTree(t *testing.T) {
	for _, tool := range []string{"mn", "mnexec", "osken-manager"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian packages mininet, python3-os-ken)", tool)
		}
	}
	// Mininet's tree topology has fixed switch interface names in the root
	// namespace: s1-eth1, ... Do not run beside another Mininet.
	for _, name := range []string{"s1-eth1", "s2-eth1", "s3-eth1"} {
		if _, err := net.InterfaceByName(name); err == nil {
			t.Skipf("interface %s exists: another Mininet runs on this machine", name)
		}
	}
	port := freePort(t)
	ctl := startController(t, port, "osken-manager", "--ofp-tcp-listen-port", fmt.Sprint(port),
		"--ofp-listen-host", "127.0.0.1", "osken_l2.py")
	runDir := t.TempDir()
	custom, _ := filepath.Abs("../contrib/mininet/goko.py")
	cmd := exec.Command("/usr/bin/python3", "-c", mnRunner,
		"--custom", custom,
		"--switch", "goko,switchd="+filepath.Join(binDir, "switchd")+",rundir="+runDir,
		"--topo", "tree,depth=2",
		"--controller", fmt.Sprintf("remote,ip=127.0.0.1,port=%d", port),
		"--nolistenport", "--test", "pingall")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("mn did not finish in 5 minutes:\n%s", out)
	}
	text := string(out)
	logs := func() string {
		var b strings.Builder
		for _, s := range []string{"s1", "s2", "s3"} {
			l, _ := os.ReadFile(filepath.Join(runDir, s+"-switchd.log"))
			fmt.Fprintf(&b, "--- %s:\n%s", s, l)
		}
		return b.String()
	}
	if err != nil || !strings.Contains(text, "Results: 0% dropped (12/12 received)") {
		t.Fatalf("mn pingall: %v\n%s\n%s\ncontroller:\n%s", err, text, logs(), ctl.output())
	}
	// One switchd per switch, each connected, each gone at the end with its
	// management socket.
	for _, s := range []string{"s1", "s2", "s3"} {
		l, _ := os.ReadFile(filepath.Join(runDir, s+"-switchd.log"))
		if !strings.Contains(string(l), "connected to controller") || !strings.Contains(string(l), "switchd stopping") {
			t.Errorf("%s: switchd log:\n%s", s, l)
		}
		if _, err := os.Stat(filepath.Join(runDir, s+".mgmt")); err == nil {
			t.Errorf("%s: management socket left behind", s)
		}
	}
	for _, name := range []string{"s1-eth1", "s2-eth1", "s3-eth1"} {
		if _, err := net.InterfaceByName(name); err == nil {
			t.Errorf("interface %s left behind", name)
		}
	}
	t.Logf("%s", text)
}
