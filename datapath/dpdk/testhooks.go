package dpdk

/*
#include "goko_dpdk.h"

static uint16_t goko_refcnt(struct rte_mbuf *m) { return rte_mbuf_refcnt_read(m); }
static int goko_is_indirect(struct rte_mbuf *m) { return RTE_MBUF_CLONED(m) != 0; }
*/
import "C"

import (
	"unsafe"

	"github.com/goko-net/goko/datapath"
)

// Introspection used by the package's tests (cgo cannot be used in
// _test.go files). Not part of the API.

// mbufRefcnt returns the reference count of the mbuf buf.
func mbufRefcnt(buf unsafe.Pointer) int { return int(C.goko_refcnt((*C.struct_rte_mbuf)(buf))) }

// mbufIndirect reports whether buf is an indirect mbuf (a clone).
func mbufIndirect(buf unsafe.Pointer) bool {
	return C.goko_is_indirect((*C.struct_rte_mbuf)(buf)) != 0
}

// fillStashes tops up every tx queue's copy stash, so that MbufsInUse is
// comparable between two points of a test.
func (p *Port) fillStashes() {
	for _, q := range p.tx {
		C.goko_stash_refill(q.c)
	}
}

// The datapath pushes headers into a received packet's headroom by
// itself (Packet.Head); these check that a frame grown into its mbuf's
// headroom or tailroom is still sent without a copy.

// bufferOf returns the bounds of the mbuf buffer that holds pkt.Data, and
// where Data starts, if pkt.Buf is one of this package's mbufs and Data lies
// inside its buffer.
func bufferOf(pkt *datapath.Packet) (start, end, data uintptr, ok bool) {
	b := uintptr(pkt.Buf)
	if b < mbufLo || b >= mbufHi || len(pkt.Data) == 0 {
		return 0, 0, 0, false
	}
	m := (*C.struct_rte_mbuf)(pkt.Buf)
	start = uintptr(m.buf_addr)
	end = start + uintptr(m.buf_len)
	data = uintptr(unsafe.Pointer(unsafe.SliceData(pkt.Data)))
	if data < start || data+uintptr(len(pkt.Data)) > end {
		return 0, 0, 0, false
	}
	return start, end, data, true
}

// headroom returns how many bytes of pkt's mbuf buffer precede pkt.Data (a
// freshly received packet has 128), or 0 if pkt does not live in an mbuf of
// this package.
func headroom(pkt *datapath.Packet) int {
	start, _, data, ok := bufferOf(pkt)
	if !ok {
		return 0
	}
	return int(data - start)
}

// tailroom returns how many bytes of pkt's mbuf buffer follow pkt.Data, or
// 0 if pkt does not live in an mbuf of this package.
func tailroom(pkt *datapath.Packet) int {
	_, end, data, ok := bufferOf(pkt)
	if !ok {
		return 0
	}
	return int(end - data - uintptr(len(pkt.Data)))
}

// prepend grows pkt.Data by n bytes at the front, into the mbuf's headroom
// (to push a header in place), and reports whether there was room. The new
// bytes hold whatever the buffer held; Send transmits the new view without
// copying. If the packet was already sent zero-copy with a view that covers
// those bytes and the device may still be reading them, write a copy.
func prepend(pkt *datapath.Packet, n int) bool {
	if n < 0 || n > headroom(pkt) {
		return false
	}
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(pkt.Data)), -n)
	pkt.Data = unsafe.Slice((*byte)(p), len(pkt.Data)+n)
	return true
}

// extend grows pkt.Data by n bytes at the end, into the mbuf's tailroom,
// and reports whether there was room.
func extend(pkt *datapath.Packet, n int) bool {
	if n < 0 || n > tailroom(pkt) {
		return false
	}
	pkt.Data = unsafe.Slice(unsafe.SliceData(pkt.Data), len(pkt.Data)+n)
	return true
}
