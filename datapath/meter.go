package datapath

import (
	"sync"
	"sync/atomic"
)

// Meter is an OpenFlow meter: a set of bands, each a token bucket at its
// own rate. A packet exceeds a band when that band's bucket lacks the
// tokens for it; the band that applies is the exceeded band with the
// highest rate (OpenFlow 1.3 section 5.7.1), and it either drops the packet
// or raises its DSCP drop precedence (how: remarkDSCP in rewrite.go). A packet
// that exceeds no band passes.
//
// Meters are shared by all datapath threads; a packet takes the meter's
// mutex once. That is a lock on the fast path, accepted for now because a
// meter is a point of serialisation by nature (one rate for all threads).
type Meter struct {
	mu    sync.Mutex
	pktps bool
	bands []meterBand
	last  int64 // unix nanoseconds of the last refill

	Packets atomic.Uint64
	Bytes   atomic.Uint64
}

// MeterBand configures one band.
type MeterBand struct {
	Rate      uint32 // kbit/s, or packets/s for a packet meter
	Burst     uint32 // kbit or packets; 0 means what the rate fills in 100 ms
	Drop      bool   // drop; otherwise remark DSCP by PrecLevel
	PrecLevel uint8
	Stats     *FlowStats // packets and bytes the band applied to
}

type meterBand struct {
	MeterBand
	capacity float64 // bucket size in bits or packets
	tokens   float64
}

// NewMeter returns a meter with full buckets.
func NewMeter(pktps bool, bands []MeterBand) *Meter {
	m := &Meter{pktps: pktps}
	for _, b := range bands {
		mb := meterBand{MeterBand: b}
		if mb.Stats == nil {
			mb.Stats = new(FlowStats)
		}
		if pktps {
			mb.capacity = float64(b.Burst)
			if mb.capacity == 0 {
				mb.capacity = float64(b.Rate) / 10
			}
		} else {
			mb.capacity = float64(b.Burst) * 1000
			if mb.capacity == 0 {
				mb.capacity = float64(b.Rate) * 100 // kbit/s * 0.1 s, in bits
			}
		}
		mb.capacity = max(mb.capacity, 1)
		mb.tokens = mb.capacity
		m.bands = append(m.bands, mb)
	}
	return m
}

// BandStats returns the counters of band i.
func (m *Meter) BandStats(i int) *FlowStats { return m.bands[i].Stats }

// apply meters one packet of n bytes at time now. It reports whether to
// drop the packet and, if not, how much to raise its drop precedence.
func (m *Meter) apply(now int64, n int) (drop bool, prec uint8) {
	m.Packets.Add(1)
	m.Bytes.Add(uint64(n))
	cost := float64(n) * 8
	if m.pktps {
		cost = 1
	}
	m.mu.Lock()
	// Datapath threads read the clock once per poll, so their timestamps
	// interleave slightly out of order: time only moves forward here, or
	// a late timestamp would credit the same interval twice.
	var elapsed float64
	if m.last != 0 && now > m.last {
		elapsed = float64(now-m.last) / 1e9
	}
	m.last = max(m.last, now)
	var hit *meterBand
	for i := range m.bands {
		b := &m.bands[i]
		rate := float64(b.Rate)
		if !m.pktps {
			rate *= 1000
		}
		b.tokens = min(b.capacity, b.tokens+rate*elapsed)
		if b.tokens >= cost {
			b.tokens -= cost
		} else if hit == nil || b.Rate > hit.Rate {
			hit = b
		}
	}
	m.mu.Unlock()
	if hit == nil {
		return false, 0
	}
	hit.Stats.Packets.Add(1)
	hit.Stats.Bytes.Add(uint64(n))
	return hit.Drop, hit.PrecLevel
}
