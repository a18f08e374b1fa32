package ofproto

import (
	"encoding/binary"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goko-net/goko/openflow"
)

func nwDst(last byte) openflow.OXM {
	return openflow.OXMUint(openflow.OXMIPv4Dst, 0x0a000000|uint64(last))
}

func delStrict(table uint8, prio uint16, m openflow.Match) *openflow.FlowMod {
	return &openflow.FlowMod{Command: openflow.FlowDeleteStrict, TableID: table, Priority: prio, BufferID: openflow.NoBuffer,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Match: m}
}

// TestUnrelatedChangesKeepMegaflows checks that changes which cannot
// affect a cached megaflow leave it in place (no new misses), and that a
// change that can does re-translate it, also behind a set_field and a
// goto, where the lookup saw a rewritten key.
func TestUnrelatedChangesKeepMegaflows(t *testing.T) {
	ts := newTestSwitch(t, 3)
	// Table 0 rewrites nw_dst for 10.0.0.1 and goes to table 1; other
	// destinations of 10.0.0.0/24 go to port 2.
	ts.mustFlow(addFlow(5, openflow.NewMatch(ipv4, openflow.OXMUintMasked(openflow.OXMIPv4Dst, 0x0a000000, 0xffffff00)), output(2)))
	ts.mustFlow(addFlow(6, openflow.NewMatch(ipv4, nwDst(1)), ins(apply(setf(nwDst(99))), openflow.InstGotoTable{TableID: 1})))
	t1 := addFlow(5, openflow.NewMatch(ipv4, nwDst(99)), output(2))
	t1.TableID = 1
	ts.mustFlow(t1)
	send := func() {
		t.Helper()
		for _, d := range []byte{1, 2, 3} {
			ts.ports[1].Inject(frame(d, 17, 53))
		}
		for i := 0; i < 3; i++ {
			if _, ok := ts.ports[2].Receive(2 * time.Second); !ok {
				t.Fatalf("received %d of 3 on port 2", i)
			}
		}
	}
	send()
	send()
	misses := func() uint64 { ts.dp.Sync(); return ts.dp.Stats().Misses }
	before := misses()

	unrelated := []openflow.Message{
		addFlow(10, openflow.NewMatch(ipv4, openflow.OXMUint(openflow.OXMIPv4Dst, 0xc0a80001)), nil), // 192.168.0.1
		addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(3)), output(2)),
		addFlow(4, openflow.NewMatch(ipv4), output(3)), // below the winners
		groupAdd(7, openflow.GroupTypeIndirect, bucket(out(3))),
		meterAdd(7, openflow.MeterFlagPktps, openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 10}),
		delStrict(0, 10, openflow.NewMatch(openflow.OXMInPortVal(3))),
	}
	t1other := addFlow(10, openflow.NewMatch(ipv4, nwDst(98)), output(3))
	t1other.TableID = 1
	unrelated = append(unrelated, t1other)
	for _, m := range unrelated {
		if c := ts.errOf(m); c != 0 {
			t.Fatalf("%T rejected: %v", m, c)
		}
	}
	send()
	if got := misses(); got != before {
		t.Fatalf("unrelated changes caused %d misses", got-before)
	}

	// In table 1 the lookup saw nw_dst 99 (written by table 0): a rule
	// for 99 there takes the flow of 10.0.0.1, and only that one.
	t1hit := addFlow(10, openflow.NewMatch(ipv4, nwDst(99)), output(3))
	t1hit.TableID = 1
	ts.mustFlow(t1hit)
	ts.ports[1].Inject(frame(1, 17, 53))
	if _, ok := ts.ports[3].Receive(2 * time.Second); !ok {
		t.Fatal("the new table-1 rule was not used")
	}
	if got := misses(); got != before+1 {
		t.Fatalf("%d misses after a change affecting one megaflow, want 1", got-before)
	}
}

// TestBarrierUnderChurn sends traffic through two pmds while a controller
// keeps changing how one destination is forwarded, among unrelated
// flow-mods, each change followed by a barrier. Every state k stamps the
// packets it forwards with k (set_field udp_dst), and states only move
// forward, also in between the messages of one change. So a packet
// injected after the k-th BARRIER_REPLY must carry a stamp of k or more: a
// smaller one means it was forwarded by a decision older than the reply.
func TestBarrierUnderChurn(t *testing.T) {
	ts := newTestSwitchPMDs(t, 3, 2)
	udp := openflow.OXMIPProtoVal(17)
	for _, in := range []uint32{1, 3} {
		ts.mustFlow(addFlow(5, openflow.NewMatch(openflow.OXMInPortVal(in), ipv4), output(2)))
	}
	stamped := func(prio uint16, k int) *openflow.FlowMod {
		return addFlow(prio, openflow.NewMatch(ipv4, udp, nwDst(1)),
			ins(apply(setf(openflow.OXMPortVal(openflow.OXMUDPDst, uint16(1000+k))), out(2))))
	}
	// Stamping is done by M (priority 10) or, when present, H (20).
	ts.mustFlow(stamped(10, 0))
	var seq atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Injectors: frames to 10.0.0.1 (stamped) and 10.0.0.2..4 (never
	// touched), with a sequence number in the payload.
	for _, in := range []uint32{1, 3} {
		wg.Add(1)
		go func(p uint32) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				f := frame(byte(1+i%4), 17, 53)
				binary.BigEndian.PutUint64(f[42:], seq.Add(1))
				if !ts.ports[p].Inject(f) {
					time.Sleep(20 * time.Microsecond)
				}
			}
		}(in)
	}
	var got [][]byte
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for {
			f, ok := ts.ports[2].Receive(100 * time.Millisecond)
			if ok {
				got = append(got, f)
				continue
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()

	// after[k] is the sequence number reached when the k-th reply came.
	after := []uint64{0}
	hPresent := false
	deadline := time.Now().Add(1500 * time.Millisecond)
	for k := 1; time.Now().Before(deadline) || k < 40; k++ {
		noise := openflow.NewMatch(ipv4, openflow.OXMUint(openflow.OXMIPv4Dst, 0xc0a80000|uint64(k)))
		ts.send(addFlow(30, noise, nil))
		ts.send(delStrict(0, 30, noise))
		switch {
		case !hPresent:
			ts.send(stamped(20, k)) // H appears with stamp k
		default:
			// M takes stamp k first, then H goes: every state in
			// between stamps k-1 or k.
			ts.send(&openflow.FlowMod{Command: openflow.FlowModifyStrict, Priority: 10, BufferID: openflow.NoBuffer,
				OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Match: stamped(10, k).Match, Instructions: stamped(10, k).Instructions})
			ts.send(delStrict(0, 20, stamped(20, k).Match))
		}
		hPresent = !hPresent
		if msgs := ts.request(&openflow.BarrierRequest{}); len(msgs) > 0 {
			t.Fatalf("unexpected replies: %v", msgs)
		}
		after = append(after, seq.Load())
		time.Sleep(time.Duration(k%3) * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	<-collected

	checked := 0
	for _, f := range got {
		s, stamp := binary.BigEndian.Uint64(f[42:]), int(binary.BigEndian.Uint16(f[36:]))
		if f[33] != 1 {
			if stamp != 53 {
				t.Fatalf("packet %d to 10.0.0.%d was rewritten (udp_dst %d)", s, f[33], stamp)
			}
			continue
		}
		// The last reply before the packet was injected.
		k := sort.Search(len(after), func(i int) bool { return after[i] >= s }) - 1
		if stamp < 1000+k {
			t.Fatalf("packet %d, injected after barrier reply %d, was forwarded by state %d", s, k, stamp-1000)
		}
		checked++
	}
	t.Logf("%d changes, %d packets forwarded, %d stamped ones checked", len(after)-1, len(got), checked)
	if checked < 100 {
		t.Fatal("too few packets crossed the changes")
	}
}
