package ofproto

// Packet buffers for packet-in.
//
// When a controller asks for at most max_len bytes of a packet (anything
// but OFPCML_NO_BUFFER) and the packet is longer, the packet-in carries the
// first max_len bytes and a buffer id; a later packet-out or flow-mod names
// that id to have the whole packet processed.
//
// The buffer is a ring of bufferSlots slots. An id is the slot index in its
// low 8 bits and the slot's generation above them, so an id whose slot has
// since been reused (the ring wrapped) is recognised as stale instead of
// silently naming another packet: OFPBRC_BUFFER_UNKNOWN. An id whose packet
// was already used is OFPBRC_BUFFER_EMPTY. Generations skip the value that
// would make an id equal OFP_NO_BUFFER.
//
// store runs on the datapath thread (from Upcall) and take on connection
// readers; the mutex is held only to copy a slot's header, never across I/O.

import (
	"sync"

	"github.com/goko-net/goko/openflow"
)

const (
	bufferSlots = 256
	bufferBits  = 8
	maxBufGen   = 1<<(32-bufferBits) - 2 // 0xfffffe: gen 0xffffff with slot 255 would be OFP_NO_BUFFER
)

type pktBuffer struct {
	mu    sync.Mutex
	next  uint32
	slots [bufferSlots]bufSlot
}

type bufSlot struct {
	gen    uint32 // 0: never used
	data   []byte // nil once taken
	inPort uint32
}

// store keeps a copy of pkt and returns its buffer id.
func (pb *pktBuffer) store(pkt []byte, inPort uint32) uint32 {
	cp := append([]byte(nil), pkt...)
	pb.mu.Lock()
	defer pb.mu.Unlock()
	i := pb.next % bufferSlots
	pb.next++
	s := &pb.slots[i]
	s.gen++
	if s.gen > maxBufGen {
		s.gen = 1
	}
	s.data, s.inPort = cp, inPort
	return s.gen<<bufferBits | i
}

// peek returns the packet with buffer id id without removing it, for
// checks that must pass before the buffer is used.
func (pb *pktBuffer) peek(id uint32) ([]byte, error) {
	i, gen := id%bufferSlots, id>>bufferBits
	pb.mu.Lock()
	defer pb.mu.Unlock()
	s := &pb.slots[i]
	if gen == 0 || s.gen != gen {
		return nil, openflow.Errorf(openflow.BRCBufferUnknown, "buffer %#x does not exist (expired or never sent)", id)
	}
	if s.data == nil {
		return nil, openflow.Errorf(openflow.BRCBufferEmpty, "buffer %#x was already used", id)
	}
	return s.data, nil
}

// take removes and returns the packet with buffer id id and the port it
// arrived on. The caller owns the returned slice.
func (pb *pktBuffer) take(id uint32) ([]byte, uint32, error) {
	i, gen := id%bufferSlots, id>>bufferBits
	pb.mu.Lock()
	defer pb.mu.Unlock()
	s := &pb.slots[i]
	if gen == 0 || s.gen != gen {
		return nil, 0, openflow.Errorf(openflow.BRCBufferUnknown, "buffer %#x does not exist (expired or never sent)", id)
	}
	if s.data == nil {
		return nil, 0, openflow.Errorf(openflow.BRCBufferEmpty, "buffer %#x was already used", id)
	}
	data := s.data
	s.data = nil
	return data, s.inPort, nil
}
