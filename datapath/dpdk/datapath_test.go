package dpdk

import (
	"fmt"
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
