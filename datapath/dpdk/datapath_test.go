package dpdk

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
)

// toPort1 sends everything to datapath port 1.
type toPort1 struct{}

func (toPort1) Translate(m *datapath.Miss, mf *datapath.Translation) {
	mf.Actions = []datapath.Action{{Kind: datapath.ActOutput, Port: 1}}
}

// TestDatapathPortChurn adds and removes net_null ports with two receive
// queues each while two pmds forward from them: every queue is polled by
// one registered pmd at a time, removed ports are closed while traffic
// flows, and no mbuf leaks.
func TestDatapathPortChurn(t *testing.T) {
	before := testEAL.MbufsInUse()
	dp := datapath.New(datapath.Config{Name: "churn", Translator: toPort1{}, PMDs: 2,
		ThreadInit: RegisterThread, ThreadExit: UnregisterThread})
	sink, err := testEAL.OpenPort("net_null40,no-rx=1", PortOptions{TxQueues: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := dp.AddPort(1, sink); err != nil {
		t.Fatal(err)
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	var received uint64
	for round := 0; time.Now().Before(deadline) || round < 10; round++ {
		var nos []uint32
		for i := 0; i < 3; i++ {
			p, err := testEAL.OpenPort(fmt.Sprintf("net_null%d,size=64", 41+i), PortOptions{RxQueues: 2, TxQueues: 2})
			if err != nil {
				t.Fatal(err)
			}
			no := uint32(2 + i)
			if err := dp.AddPort(no, p); err != nil {
				t.Fatal(err)
			}
			nos = append(nos, no)
		}
		time.Sleep(2 * time.Millisecond)
		for _, no := range nos {
			p, _ := dp.Port(no)
			received += p.Stats().RxPackets
			if err := dp.RemovePort(no); err != nil {
				t.Fatal(err)
			}
		}
	}
	dp.Sync()
	sent := sink.Stats().TxPackets
	dp.Stop() // closes the sink
	if received == 0 || sent == 0 {
		t.Fatalf("received %d, sent %d", received, sent)
	}
	t.Logf("received %d packets over the churn, sent %d", received, sent)
	if after := testEAL.MbufsInUse(); after > before {
		t.Errorf("mbufs in use: %d before, %d after", before, after)
	}
}

// writePcap writes n copies of frame as a pcap file.
func writePcap(t *testing.T, frame []byte, n int) string {
	path := filepath.Join(t.TempDir(), "in.pcap")
	b := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	for i := 0; i < n; i++ {
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
		b = append(append(b, rec...), frame...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReceiveQueuesOverPMDs opens a net_pcap port with two sources (two
// receive queues), as switchd does with --pmds 2, and checks that each pmd
// owns one of them and both forward; a single-source port refuses two
// queues, which switchd then falls back from.
func TestReceiveQueuesOverPMDs(t *testing.T) {
	pcap := writePcap(t, testFrame(1, 64, 7), 64)
	if _, err := testEAL.OpenPort("net_pcap60,rx_pcap="+pcap, PortOptions{RxQueues: 2}); err == nil {
		t.Fatal("a one-source pcap port accepted two receive queues")
	}
	one := openPort(t, "net_pcap60,rx_pcap="+pcap, PortOptions{})
	if one.RxQueues() != 1 {
		t.Fatalf("%d receive queues after the fallback", one.RxQueues())
	}
	two, err := testEAL.OpenPort("net_pcap61,rx_pcap="+pcap+",rx_pcap="+pcap+",infinite_rx=1", PortOptions{RxQueues: 2, TxQueues: 2})
	if err != nil {
		t.Fatal(err)
	}
	dp := datapath.New(datapath.Config{Name: "rxq", Translator: toPort1{}, PMDs: 2,
		ThreadInit: RegisterThread, ThreadExit: UnregisterThread})
	sink, err := testEAL.OpenPort("net_null62,no-rx=1", PortOptions{TxQueues: 2})
	if err != nil {
		t.Fatal(err)
	}
	dp.AddPort(1, sink)
	dp.AddPort(2, two)
	owners := map[int]int{}
	for _, o := range dp.RxqOwners() {
		if o.Port == 2 {
			owners[o.Queue] = o.PMD
		}
	}
	if len(owners) != 2 || owners[0] == owners[1] {
		t.Fatalf("receive queues of port 2 owned by pmds %v, want one each", owners)
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	dp.Sync()
	st := two.Stats()
	sent := sink.Stats().TxPackets
	dp.Stop()
	if st.RxPackets == 0 || sent == 0 {
		t.Fatalf("received %d, forwarded %d", st.RxPackets, sent)
	}
}
