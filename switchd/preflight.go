package switchd

import (
	"fmt"
	"net"
	"path/filepath"
	"time"
)

// preflight refuses to start a bridge that another switchd already runs,
// before DPDK starts or any port is opened: the second daemon would
// otherwise take the first one's ports away from it before failing on the
// management socket.
func (d *Daemon) preflight() error {
	for _, b := range d.cfg.Bridges {
		path := filepath.Join(d.cfg.RunDir, b.Name+".mgmt")
		c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
		if err != nil {
			continue // no socket, or a stale one from a crash: listenUnix replaces it
		}
		c.Close()
		return fmt.Errorf("bridge %s is already running: another switchd answers on %s (stop it first, or use another --run-dir)", b.Name, path)
	}
	return nil
}
