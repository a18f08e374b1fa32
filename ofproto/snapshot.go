package ofproto

import (
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// Snapshot is a bridge's counters at one moment, for the daemon's metrics.
type Snapshot struct {
	Bridge   string
	Datapath datapath.Stats
	Ports    []PortSnapshot
	Tables   []TableSnapshot // tables that hold flows
	Programs []openflow.GokoFilterProgInfo
	PMDs     []datapath.PMDStats
}

// PortSnapshot is one port's counters.
type PortSnapshot struct {
	No     uint32
	Name   string
	LinkUp bool
	Stats  datapath.PortStats
}

// TableSnapshot is one flow table's counters.
type TableSnapshot struct {
	ID               uint8
	Flows            int
	Lookups, Matches uint64
}

// Snapshot collects the bridge's counters. Flow and table counters are
// first brought up to date with the datapath threads.
func (b *Bridge) Snapshot() Snapshot {
	b.dp.SyncCounters()
	s := Snapshot{Bridge: b.cfg.Name, Datapath: b.dp.Stats(), PMDs: b.dp.PMDStats()}
	if list, err := b.filterProgList(openflow.GokoAllProgs); err == nil {
		s.Programs = list.Progs
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, p := range b.portList {
		info := p.dp.Info()
		s.Ports = append(s.Ports, PortSnapshot{No: p.no, Name: info.Name, LinkUp: info.LinkUp, Stats: p.dp.Stats()})
	}
	for i := range b.tables {
		t := &b.tables[i]
		if t.len() == 0 && t.lookupStats.Packets.Load() == 0 {
			continue
		}
		s.Tables = append(s.Tables, TableSnapshot{ID: uint8(i), Flows: t.len(),
			Lookups: t.lookupStats.Packets.Load(), Matches: t.matchStats.Packets.Load()})
	}
	return s
}
