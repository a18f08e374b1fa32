package openflow

import "encoding/binary"

// Small big-endian helpers shared by every file. Callers check bounds first;
// these helpers never do.

var be = binary.BigEndian

func u16(b []byte, off int) uint16 { return be.Uint16(b[off:]) }
func u32(b []byte, off int) uint32 { return be.Uint32(b[off:]) }
func u64(b []byte, off int) uint64 { return be.Uint64(b[off:]) }

func put16(b []byte, v uint16) []byte { return be.AppendUint16(b, v) }
func put32(b []byte, v uint32) []byte { return be.AppendUint32(b, v) }
func put64(b []byte, v uint64) []byte { return be.AppendUint64(b, v) }

// zeros appends n zero bytes.
func zeros(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, 0)
	}
	return b
}

// pad8 rounds n up to a multiple of 8.
func pad8(n int) int { return (n + 7) &^ 7 }

// padTo8 appends zero bytes until len(b)-start is a multiple of 8.
func padTo8(b []byte, start int) []byte {
	return zeros(b, pad8(len(b)-start)-(len(b)-start))
}

// patch16 writes v at b[off:off+2].
func patch16(b []byte, off int, v uint16) { be.PutUint16(b[off:], v) }

// appendString appends s as a fixed-size, NUL-padded field of n bytes.
// Strings longer than n are truncated; a string of exactly n bytes is
// written without a terminating NUL.
func appendString(b []byte, s string, n int) []byte {
	if len(s) > n {
		s = s[:n]
	}
	b = append(b, s...)
	return zeros(b, n-len(s))
}

// cstring reads a fixed-size NUL-padded string field.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// nilIfEmpty returns nil for an empty slice so that decoded messages
// compare equal with reflect.DeepEqual to hand-built ones.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
