package ofproto

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/openflow"
)

// gokoJSON sends a goko diagnostic request over c and returns its JSON
// reply, or the error the switch sent.
func gokoJSON(t *testing.T, c net.Conn, expType uint32, body []byte) ([]byte, *openflow.ErrorMsg) {
	t.Helper()
	b, _ := openflow.Marshal(9, &openflow.MultipartRequest{Body: &openflow.MultipartExperimenterBody{
		Experimenter: openflow.GokoExperimenter, ExpType: expType, Data: body}})
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	var doc []byte
	for {
		raw, err := openflow.ReadMessage(rd, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, m, err := openflow.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *openflow.ErrorMsg:
			return nil, m
		case *openflow.MultipartReply:
			doc = append(doc, m.Body.(*openflow.MultipartExperimenterBody).Data...)
			if m.Flags&openflow.MultipartMore == 0 {
				return doc, nil
			}
		}
	}
}

// TestLogLevel: the level changes through the management socket only,
// and debug logs then show flow-mods and upcalls.
func TestLogLevel(t *testing.T) {
	var logs bytes.Buffer
	var level slog.LevelVar
	level.Set(slog.LevelInfo)
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: &level}))
	mgmt := filepath.Join(t.TempDir(), "br0.mgmt")
	b := New(Config{Name: "br0", DatapathID: 1, Logger: log, LogLevel: &level, ManagementSocket: mgmt})
	dp := datapath.New(datapath.Config{Name: "br0", Translator: b, Upcaller: b})
	b.SetDatapath(dp)
	in := memport.New("p1")
	b.AddPort(1, in)
	b.AddPort(2, memport.New("p2"))
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", mgmt)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.Serve(c)
		}
	}()
	srv, pipe := net.Pipe()
	go b.Serve(srv)
	t.Cleanup(func() { ln.Close(); pipe.Close(); b.Close(); dp.Stop() })
	hello := func(c net.Conn) {
		hb, _ := openflow.Marshal(1, openflow.NewHello(openflow.Version))
		go c.Write(hb)
		if _, err := openflow.ReadMessage(c, nil); err != nil {
			t.Fatal(err)
		}
	}
	hello(pipe)
	m, err := net.Dial("unix", mgmt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	hello(m)

	if _, e := gokoJSON(t, pipe, openflow.GokoMPLogLevel, []byte("debug")); e == nil || e.Code != openflow.BRCEperm {
		t.Fatalf("set over a controller connection: %+v", e)
	}
	doc, e := gokoJSON(t, pipe, openflow.GokoMPLogLevel, nil)
	if e != nil || !strings.Contains(string(doc), `"info"`) {
		t.Fatalf("query: %s %+v", doc, e)
	}
	if _, e := gokoJSON(t, m, openflow.GokoMPLogLevel, []byte("loud")); e == nil {
		t.Fatal("bad level accepted")
	}
	doc, e = gokoJSON(t, m, openflow.GokoMPLogLevel, []byte("DEBUG"))
	var ll openflow.GokoLogLevel
	if e != nil || json.Unmarshal(doc, &ll) != nil || ll.Level != "debug" || level.Level() != slog.LevelDebug {
		t.Fatalf("set debug: %s %+v, level %v", doc, e, level.Level())
	}
	fm, _ := openflow.Marshal(20, addFlow(5, openflow.NewMatch(openflow.OXMInPortVal(1)), output(2)))
	br, _ := openflow.Marshal(21, &openflow.BarrierRequest{})
	m.Write(append(fm, br...))
	if raw, err := openflow.ReadMessage(m, nil); err != nil || raw[1] != byte(openflow.TypeBarrierReply) {
		t.Fatalf("no barrier reply after the flow-mod: %x %v", raw, err)
	}
	in.Inject(frame(2, 17, 53))
	dp.Sync()
	dp.Sync()
	if out := logs.String(); !strings.Contains(out, "msg=flow-mod") || !strings.Contains(out, "command=add") ||
		!strings.Contains(out, "msg=upcall") || !strings.Contains(out, "actions=output:2") {
		t.Errorf("debug logs:\n%s", out)
	}
	// PMD counters and megaflows over the same channel.
	doc, e = gokoJSON(t, m, openflow.GokoMPPMDStats, nil)
	var stats []openflow.GokoPMDStats
	if e != nil || json.Unmarshal(doc, &stats) != nil || len(stats) != 1 || stats[0].Packets != 1 || stats[0].Upcalls != 1 {
		t.Errorf("pmd stats: %s %+v", doc, e)
	}
	doc, e = gokoJSON(t, m, openflow.GokoMPMegaflows, nil)
	var flows []openflow.GokoMegaflow
	if e != nil || json.Unmarshal(doc, &flows) != nil || len(flows) != 1 || flows[0].Actions != "output:2" || flows[0].Packets != 1 {
		t.Errorf("megaflows: %s %+v", doc, e)
	}
}
