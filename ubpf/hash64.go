package ubpf

import (
	"encoding/binary"
	"math/bits"
)

// Hash64 is goko's stable 64-bit hash of a byte string (the goko_hash64
// helper and the bloom filter and count-min sketch use it). It reads eight
// bytes at a time and mixes with 128-bit multiplies; its output never
// changes between releases or processes.
func Hash64(b []byte, seed uint64) uint64 {
	const (
		k0 = 0xa0761d6478bd642f
		k1 = 0xe7037ed1a0b428db
		k2 = 0x8ebc6af09c88c6e3
	)
	h := seed ^ k0 ^ uint64(len(b))*k2
	for len(b) >= 8 {
		hi, lo := bits.Mul64(binary.LittleEndian.Uint64(b)^k1, h^k2)
		h = hi ^ lo
		b = b[8:]
	}
	var t uint64
	for i := len(b) - 1; i >= 0; i-- {
		t = t<<8 | uint64(b[i])
	}
	hi, lo := bits.Mul64(t^k1^uint64(len(b))<<56, h^k0)
	h = hi ^ lo
	hi, lo = bits.Mul64(h^k2, h^k1)
	return hi ^ lo
}
