package switchd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecondDaemonRefusedEarly: a switchd for a bridge whose management
// socket answers fails at once, before DPDK creates its runtime directory.
func TestSecondDaemonRefusedEarly(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "br0.mgmt"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	prefix := fmt.Sprintf("goko-preflight-%d", os.Getpid())
	cfg := Config{RunDir: dir, DPDK: DPDKConfig{FilePrefix: prefix},
		Bridges: []BridgeConfig{{Name: "br0", Ports: []string{"dpdk:net_null0"}}}}
	var logged strings.Builder
	err = Run(context.Background(), cfg, slog.New(slog.NewTextHandler(&logged, nil)))
	defer os.RemoveAll(filepath.Join("/var/run/dpdk", prefix))
	if err == nil || !strings.Contains(err.Error(), "bridge br0 is already running") {
		t.Fatalf("Run: %v", err)
	}
	if strings.Contains(logged.String(), "DPDK") {
		t.Errorf("DPDK was started before the bridge was refused:\n%s", logged.String())
	}
}
