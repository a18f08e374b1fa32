package ubpf

// Queue and stack
//
// A ring of max_entries values under a sync.Mutex. push (helper 87 or
// Update) appends; with BPF_EXIST a full queue drops its oldest element.
// pop (88) and peek (89) copy the value out, so no map memory escapes.

import "sync"

type queueMap struct {
	vsize, max int
	stack      bool
	mu         sync.Mutex
	buf        []byte
	head, n    int
}

func newQueueMap(s *MapSpec) *queueMap {
	return &queueMap{vsize: int(s.ValueSize), max: int(s.MaxEntries), stack: s.Type == MapStack,
		buf: make([]byte, int(s.ValueSize)*int(s.MaxEntries))}
}

func (q *queueMap) slot(i int) []byte {
	i %= q.max
	return q.buf[i*q.vsize : (i+1)*q.vsize]
}

func (q *queueMap) push(val []byte, flags UpdateFlags) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == q.max {
		if flags != UpdateExist {
			return ErrMapFull
		}
		// drop the oldest
		q.head = (q.head + 1) % q.max
		q.n--
	}
	copy(q.slot(q.head+q.n), val)
	q.n++
	return nil
}

// take copies the next element into out; pop removes it.
func (q *queueMap) take(out []byte, pop bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return false
	}
	i := q.head
	if q.stack {
		i = q.head + q.n - 1
	}
	copy(out, q.slot(i))
	if pop {
		if !q.stack {
			q.head = (q.head + 1) % q.max
		}
		q.n--
	}
	return true
}

func (q *queueMap) progLookup(int, []byte) []byte { return nil }
func (q *queueMap) update(_ int, _, val []byte, flags UpdateFlags, _ bool) error {
	return q.push(val, flags)
}
func (q *queueMap) delete([]byte) error { return ErrNotSupported }
func (q *queueMap) hostLookup([]byte) ([]byte, bool) {
	out := make([]byte, q.vsize)
	return out, q.take(out, false)
}
func (q *queueMap) iterate(fn func(key, val []byte) bool) {
	q.mu.Lock()
	var vs [][]byte
	for i := 0; i < q.n; i++ {
		vs = append(vs, append([]byte(nil), q.slot(q.head+i)...))
	}
	q.mu.Unlock()
	for _, v := range vs {
		if !fn(nil, v) {
			return
		}
	}
}
func (q *queueMap) count() int { q.mu.Lock(); defer q.mu.Unlock(); return q.n }
