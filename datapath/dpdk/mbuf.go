package dpdk

/*
#include "goko_dpdk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/goko-net/goko/datapath"
)

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

// Headroom returns how many bytes of pkt's mbuf buffer precede pkt.Data (a
// freshly received packet has 128), or 0 if pkt does not live in an mbuf of
// this package.
func Headroom(pkt *datapath.Packet) int {
	start, _, data, ok := bufferOf(pkt)
	if !ok {
		return 0
	}
	return int(data - start)
}

// Tailroom returns how many bytes of pkt's mbuf buffer follow pkt.Data, or
// 0 if pkt does not live in an mbuf of this package.
func Tailroom(pkt *datapath.Packet) int {
	_, end, data, ok := bufferOf(pkt)
	if !ok {
		return 0
	}
	return int(end - data - uintptr(len(pkt.Data)))
}

// Prepend grows pkt.Data by n bytes at the front, into the mbuf's headroom
// (to push a header in place), and reports whether there was room. The new
// bytes hold whatever the buffer held; Send transmits the new view without
// copying. If the packet was already sent zero-copy with a view that covers
// those bytes and the device may still be reading them, write a copy.
func Prepend(pkt *datapath.Packet, n int) bool {
	if n < 0 || n > Headroom(pkt) {
		return false
	}
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(pkt.Data)), -n)
	pkt.Data = unsafe.Slice((*byte)(p), len(pkt.Data)+n)
	return true
}

// Extend grows pkt.Data by n bytes at the end, into the mbuf's tailroom,
// and reports whether there was room.
func Extend(pkt *datapath.Packet, n int) bool {
	if n < 0 || n > Tailroom(pkt) {
		return false
	}
	pkt.Data = unsafe.Slice(unsafe.SliceData(pkt.Data), len(pkt.Data)+n)
	return true
}
