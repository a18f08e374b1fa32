package ofproto

// Filter programs' maps as controllers see them: dumps split to fit
// OpenFlow messages, updates and deletes of single entries, and send_maps,
// which pushes a program's maps to the controllers, at most once per
// sendMapsInterval per program.

import (
	"bytes"
	"errors"
	"time"

	"github.com/goko-net/goko/openflow"
	"github.com/goko-net/goko/ubpf"
)

// sendMapsInterval is the least time between two map sends of one
// program triggered by send_maps.
const sendMapsInterval = 100 * time.Millisecond

// filterMap finds a map of a program.
func (b *Bridge) filterMap(id uint32, name string) (*ubpf.Map, error) {
	b.mu.RLock()
	f := b.filters.progs[id]
	b.mu.RUnlock()
	if f == nil {
		return nil, gokoErr(openflow.GokoErrUnknownProg, "no filter program %d", id)
	}
	m := f.prog.Load().Map(name)
	if m == nil {
		var names []string
		for _, m := range f.prog.Load().Maps() {
			names = append(names, m.Name())
		}
		return nil, gokoErr(openflow.GokoErrUnknownMap, "program %d has no map %q (it has %v)", id, name, names)
	}
	return m, nil
}

// mapDumps returns a map's contents split into parts that each fit in one
// OpenFlow message.
func mapDumps(id uint32, m *ubpf.Map) []*openflow.GokoMapDump {
	const budget = 60000 // bytes of entries per message, below the 64 KiB limit
	cur := &openflow.GokoMapDump{ProgID: id, Map: m.Name()}
	parts := []*openflow.GokoMapDump{cur}
	size := 0
	m.Iterate(func(k, v []byte) bool {
		n := 8 + pad8(len(k)) + pad8(len(v))
		if size+n > budget && len(cur.Entries) > 0 {
			cur = &openflow.GokoMapDump{ProgID: id, Map: m.Name()}
			parts = append(parts, cur)
			size = 0
		}
		cur.Entries = append(cur.Entries, openflow.GokoMapEntry{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		size += n
		return true
	})
	return parts
}

func pad8(n int) int { return (n + 7) &^ 7 }

// updateMap applies UPDATE_MAP or DELETE_MAP_ENTRY.
func (b *Bridge) updateMap(u *openflow.GokoMapUpdate, del bool) error {
	m, err := b.filterMap(u.ProgID, u.Map)
	if err != nil {
		return err
	}
	if ks := m.KeySize(); ks != 0 && len(u.Key) != ks {
		return gokoErr(openflow.GokoErrBadKey, "map %q takes %d-byte keys, got %d", u.Map, ks, len(u.Key))
	}
	if del {
		err = m.Delete(u.Key)
	} else {
		want := m.ValueSize()
		if m.PerThread() && len(u.Value) == m.ValueSize() {
			// One value for every thread slot: replicate it.
			u.Value = bytes.Repeat(u.Value, ubpf.ThreadSlots)
			want *= ubpf.ThreadSlots
		}
		if len(u.Value) != want {
			return gokoErr(openflow.GokoErrBadValue, "map %q takes %d-byte values, got %d", u.Map, m.ValueSize(), len(u.Value))
		}
		if u.Flags > openflow.GokoMapExist {
			return gokoErr(openflow.GokoErrBadRequest, "unknown update flags %d", u.Flags)
		}
		err = m.Update(u.Key, u.Value, ubpf.UpdateFlags(u.Flags))
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ubpf.ErrKeyNotExist):
		return gokoErr(openflow.GokoErrNoEntry, "map %q: %v", u.Map, err)
	case errors.Is(err, ubpf.ErrKeyExist):
		return gokoErr(openflow.GokoErrExists, "map %q: %v", u.Map, err)
	case errors.Is(err, ubpf.ErrMapFull):
		return gokoErr(openflow.GokoErrMapFull, "map %q: %v", u.Map, err)
	case errors.Is(err, ubpf.ErrNotSupported):
		return gokoErr(openflow.GokoErrUnsupported, "map %q: %v", u.Map, err)
	}
	return gokoErr(openflow.GokoErrBadRequest, "map %q: %v", u.Map, err)
}

// sendMapsArg rides on the datapath's Userspace action for send_maps.
type sendMapsArg struct {
	prog *filterProg
	maps []string
}

// sendMaps sends a program's maps to the controllers, at most once per
// sendMapsInterval per program, off the datapath thread.
func (b *Bridge) sendMaps(a *sendMapsArg) {
	now := time.Now().UnixNano()
	last := a.prog.lastSend.Load()
	if now-last < int64(sendMapsInterval) || !a.prog.lastSend.CompareAndSwap(last, now) {
		return
	}
	go func() {
		p := a.prog.prog.Load()
		var maps []*ubpf.Map
		if len(a.maps) == 0 {
			maps = p.Maps()
		}
		for _, n := range a.maps {
			if m := p.Map(n); m != nil {
				maps = append(maps, m)
			}
		}
		for _, m := range maps {
			for _, part := range mapDumps(a.prog.id, m) {
				b.broadcastExperimenter(openflow.GokoMapContents, part.Marshal())
			}
		}
	}()
}
