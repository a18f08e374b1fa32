package ubpf

// Array maps (array, per-thread array)
//
// Storage is one 8-aligned slab allocated at creation: entry i of slot s is
// at s*slotBytes + i*stride, stride being the value size rounded up to 8.
// Nothing is ever allocated or freed afterwards, so there is no lock:
// lookups are an index computation, updates copy in place (8-byte atomic
// stores for the aligned part, so a reader never sees a torn word), BPF
// atomics on values are real atomics. Deletes are not supported (EINVAL),
// as in Linux.

import (
	"encoding/binary"
)

type arrayMap struct {
	vsize, stride, n int
	slots            int
	slotBytes        int
	data             []byte
}

func newArrayMap(s *MapSpec) *arrayMap {
	a := &arrayMap{vsize: int(s.ValueSize), stride: roundUp8(int(s.ValueSize)), n: int(s.MaxEntries), slots: 1}
	if s.Type == MapPerThreadArray {
		a.slots = ThreadSlots
	}
	a.slotBytes = a.stride * a.n
	a.data = alignedBytes(a.slotBytes * a.slots)
	return a
}

func (a *arrayMap) index(key []byte) (int, bool) {
	if len(key) != 4 {
		return 0, false
	}
	i := binary.LittleEndian.Uint32(key)
	if uint64(i) >= uint64(a.n) {
		return 0, false
	}
	return int(i), true
}

func (a *arrayMap) at(slot, i int) []byte {
	o := slot*a.slotBytes + i*a.stride
	return a.data[o : o+a.vsize : o+a.vsize]
}

func (a *arrayMap) progLookup(slot int, key []byte) []byte {
	i, ok := a.index(key)
	if !ok {
		return nil
	}
	if a.slots == 1 {
		slot = 0
	}
	return a.at(slot, i)
}

func (a *arrayMap) update(slot int, key, val []byte, flags UpdateFlags, host bool) error {
	i, ok := a.index(key)
	if !ok {
		return ErrMapFull // E2BIG, as Linux for an index out of range
	}
	if flags == UpdateNoExist {
		return ErrKeyExist
	}
	switch {
	case a.slots == 1:
		copyIn(a.at(0, i), val[:a.vsize])
	case !host:
		copyIn(a.at(slot, i), val[:a.vsize])
	case len(val) == a.vsize:
		for s := 0; s < a.slots; s++ {
			copyIn(a.at(s, i), val)
		}
	default:
		for s := 0; s < a.slots; s++ {
			copyIn(a.at(s, i), val[s*a.vsize:(s+1)*a.vsize])
		}
	}
	return nil
}

func (a *arrayMap) delete([]byte) error { return ErrInvalidArg }

func (a *arrayMap) value(i int) []byte {
	if a.slots == 1 {
		return copyOut(a.at(0, i))
	}
	out := make([]byte, 0, a.vsize*a.slots)
	for s := 0; s < a.slots; s++ {
		out = append(out, copyOut(a.at(s, i))...)
	}
	return out
}

func (a *arrayMap) hostLookup(key []byte) ([]byte, bool) {
	i, ok := a.index(key)
	if !ok {
		return nil, false
	}
	return a.value(i), true
}

func (a *arrayMap) iterate(fn func(key, val []byte) bool) {
	for i := 0; i < a.n; i++ {
		k := binary.LittleEndian.AppendUint32(nil, uint32(i))
		if !fn(k, a.value(i)) {
			return
		}
	}
}

func (a *arrayMap) count() int { return a.n }
