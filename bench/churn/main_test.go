package main

import (
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/ofproto"
)

// TestChurnAgainstBridge runs the tool against a goko bridge for a moment
// and checks that it kept its rate and left at most -live flows.
func TestChurnAgainstBridge(t *testing.T) {
	b := ofproto.New(ofproto.Config{Name: "br0", DatapathID: 1})
	dp := datapath.New(datapath.Config{Name: "br0", Translator: b, Upcaller: b})
	b.SetDatapath(dp)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	sock := filepath.Join(t.TempDir(), "br0.mgmt")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var served atomic.Int32
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			served.Add(1)
			go b.Serve(nc)
		}
	}()
	const live = 20
	if err := run("unix:"+sock, 2000, live, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b.Close()
	// the window may close between an add and the delete that pairs it
	if s := b.Snapshot(); len(s.Tables) == 0 || s.Tables[0].Flows > live+1 {
		t.Fatalf("tables after churn: %+v", s.Tables)
	}
}
