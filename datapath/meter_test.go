package datapath

import (
	"encoding/binary"
	"testing"
)

// TestMeterRates drives meters with their own notion of time (apply's
// now argument): traffic at twice a band's rate for 30 simulated seconds,
// one packet at a time or in bursts of 32 sharing a timestamp, as a pmd
// delivers them. What does not exceed the band must be the band's rate.
func TestMeterRates(t *testing.T) {
	const secs = 30
	for _, c := range []struct {
		name  string
		pktps bool
		rate  uint32 // kbit/s or pkt/s
		size  int    // frame bytes
		burst int    // packets per timestamp
	}{
		{"1 Mbit/s", false, 1000, 1500, 1}, {"10 Mbit/s", false, 10000, 1500, 1}, {"100 Mbit/s", false, 100000, 1500, 1},
		{"10 Mbit/s bursts", false, 10000, 1500, 32}, {"100 Mbit/s small frames", false, 100000, 64, 32},
		{"100 pkt/s", true, 100, 1500, 1}, {"1000 pkt/s", true, 1000, 1500, 1}, {"10000 pkt/s", true, 10000, 1500, 1},
		{"10000 pkt/s bursts", true, 10000, 64, 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := NewMeter(c.pktps, []MeterBand{{Rate: c.rate, PrecLevel: 1}})
			perSec := float64(c.rate) // packets per second offered: twice the rate
			if !c.pktps {
				perSec = float64(c.rate) * 1000 / float64(c.size*8)
			}
			perSec *= 2
			n := int(perSec * secs)
			gap := 1e9 / perSec * float64(c.burst)
			var remarked, passed int
			for i := 0; i < n; i++ {
				now := int64(1e9 + float64(i/c.burst)*gap)
				drop, prec := m.apply(now, c.size)
				switch {
				case drop:
					t.Fatal("a remark band dropped")
				case prec == 1:
					remarked++
				default:
					passed++
				}
			}
			got := float64(passed) / secs
			want := float64(c.rate)
			if !c.pktps {
				got = float64(passed*c.size*8) / secs / 1000
			}
			if got < want*0.98 || got > want*1.02 {
				t.Errorf("passed unremarked at %.1f, want %d (%d passed, %d remarked)", got, c.rate, passed, remarked)
			}
			if st := m.BandStats(0); st.Packets.Load() != uint64(remarked) {
				t.Errorf("band counted %d, remarked %d", st.Packets.Load(), remarked)
			}
		})
	}
}

// TestMeterHighestExceededBand: of the bands a packet exceeds, the one with
// the highest rate applies; below every rate nothing happens.
func TestMeterHighestExceededBand(t *testing.T) {
	m := NewMeter(true, []MeterBand{{Rate: 10, Burst: 1, Drop: true}, {Rate: 100, Burst: 1, PrecLevel: 2}})
	now := int64(1e9)
	if drop, prec := m.apply(now, 100); drop || prec != 0 {
		t.Fatalf("first packet: drop %v prec %d", drop, prec)
	}
	// Both buckets are empty now: the 100 pkt/s band wins, which remarks.
	if drop, prec := m.apply(now, 100); drop || prec != 2 {
		t.Fatalf("second packet: drop %v prec %d, want the remark band", drop, prec)
	}
	// 15 ms later the 100 pkt/s band has a token again, the 10 pkt/s one
	// not: only that one is exceeded, and it drops.
	if drop, _ := m.apply(now+15e6, 100); !drop {
		t.Fatal("third packet passed the 10 pkt/s drop band")
	}
}

func TestRemarkDSCP(t *testing.T) {
	for _, c := range []struct{ dscp, prec, want uint8 }{
		{24, 1, 16},                         // CS3 -> CS2: the public test suite's case
		{24, 3, 0}, {24, 5, 0}, {46, 1, 38}, // EF keeps its low bits in class 3
		{10, 1, 12}, {10, 2, 14}, {12, 5, 14}, // AF11 -> AF12, AF13; capped
		{34, 1, 36}, // AF41 -> AF42
		{0, 1, 0},   // best effort stays
	} {
		for _, v6 := range []bool{false, true} {
			var f []byte
			if v6 {
				f = make([]byte, 14+40+8)
				binary.BigEndian.PutUint16(f[12:], EthTypeIPv6)
				binary.BigEndian.PutUint32(f[14:], 6<<28|uint32(c.dscp<<2|1)<<20|7)
				f[14+6], f[14+7] = IPProtoUDP, 64
				binary.BigEndian.PutUint16(f[14+4:], 8)
			} else {
				f = make([]byte, 14+20+8)
				binary.BigEndian.PutUint16(f[12:], EthTypeIPv4)
				f[14], f[15], f[14+8], f[14+9] = 0x45, c.dscp<<2|1, 64, IPProtoUDP
				binary.BigEndian.PutUint16(f[14+2:], 28)
				binary.BigEndian.PutUint16(f[14+10:], ^ipSum(f[14:34]))
			}
			var k FlowKey
			off := Parse(f, 1, &k)
			h := headers{frame: f, key: &k, off: &off}
			h.remarkDSCP(c.prec)
			var k2 FlowKey
			Parse(f, 1, &k2)
			if k2.NwTos != c.want<<2|1 || k.NwTos != k2.NwTos {
				t.Errorf("v6=%v dscp %d prec %d: got tos %#x (key %#x), want dscp %d, ecn kept", v6, c.dscp, c.prec, k2.NwTos, k.NwTos, c.want)
			}
			if !v6 && ^ipSum(f[14:34]) != 0 {
				t.Errorf("dscp %d: IPv4 checksum wrong after remark", c.dscp)
			}
		}
	}
}

// ipSum is the one's-complement sum of b, folded (0xffff over a header
// whose checksum is right).
func ipSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// TestMeterSkewedClocks: two datapath threads whose clocks differ by a
// millisecond meter the same traffic; the rate still holds.
func TestMeterSkewedClocks(t *testing.T) {
	m := NewMeter(true, []MeterBand{{Rate: 1000, PrecLevel: 1}})
	passed := 0
	for i := 0; i < 60000; i++ { // 2000 pkt/s for 30 s
		now := int64(1e9) + int64(i)*500e3
		if i%2 == 1 {
			now -= 1e6 // the other thread's clock is behind
		}
		if _, prec := m.apply(now, 100); prec == 0 {
			passed++
		}
	}
	if got := float64(passed) / 30; got < 980 || got > 1020 {
		t.Fatalf("%.0f pkt/s passed a 1000 pkt/s band", got)
	}
}
