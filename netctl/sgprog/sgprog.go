// Package sgprog is the security-group filter program (src/sg.c) and its map
// layout: the object netctl loads once per NIC, and the encoders of the
// keys and values it reads. It knows nothing of netctl's model; see src/sg.c
// for the design and netctl/sgmaps.go for how rules become entries.
//
// The object is built from src/sg.c with stock clang (go generate, or make) and
// embedded, so netctl needs no compiler where it runs; a test rebuilds it
// and checks that the embedded object is current.
package sgprog

//go:generate clang -O2 -g -fdebug-compilation-dir=. -Wall -Werror -target bpf -I/usr/include/x86_64-linux-gnu -I../../ubpf/include -c src/sg.c -o sg.o

import (
	_ "embed"
	"encoding/binary"
	"net/netip"
)

// Object is the ELF object of the program, as clang built it from src/sg.c.
//
//go:embed sg.o
var Object []byte

// Program is the program's name in the object.
const Program = "sg"

// Map names.
const (
	MapNIC     = "nic"
	MapRemote4 = "remote4"
	MapRemote6 = "remote6"
	MapShapes  = "shapes"
)

// Directions, as the dir byte of remote keys.
const (
	DirIngress = 0
	DirEgress  = 1
)

// NICValue is the nic map's value: the NIC's MAC, padded to 8 bytes.
func NICValue(mac [6]byte) []byte { return append(mac[:], 0, 0) }

// NICKey is the nic map's only key.
func NICKey() []byte { return []byte{0, 0, 0, 0} }

// RemoteMap is the map of p's family.
func RemoteMap(p netip.Prefix) string {
	if p.Addr().Is4() {
		return MapRemote4
	}
	return MapRemote6
}

// RemoteKey is the LPM key of prefix p in direction dir: prefixlen (host
// order, as Linux's struct bpf_lpm_trie_key), the dir byte, the address.
func RemoteKey(dir byte, p netip.Prefix) []byte {
	p = p.Masked()
	k := binary.LittleEndian.AppendUint32(nil, uint32(8+p.Bits()))
	k = append(k, dir)
	return append(k, p.Addr().AsSlice()...)
}

// ClassValue is a remote entry's value: the class number.
func ClassValue(class uint32) []byte { return binary.LittleEndian.AppendUint32(nil, class) }

// Shape is one allow rule's protocol part. Proto 0 is any protocol (and
// then nothing else counts); PortLo..PortHi a destination-port range (tcp,
// udp; 0 for any); ICMPType and ICMPCode an ICMP type and code (-1: any).
type Shape struct {
	Proto              uint8
	PortLo, PortHi     uint16
	ICMPType, ICMPCode int
}

// ShapeKeys returns the shapes-map keys that hold shape s in class: one,
// or for a port range the power-of-two blocks that tile it.
func ShapeKeys(class uint32, s Shape) [][]byte {
	key := func(bits int, proto uint8, l4 uint16) []byte {
		k := binary.LittleEndian.AppendUint32(nil, uint32(bits))
		k = binary.BigEndian.AppendUint32(k, class)
		k = append(k, proto)
		return binary.BigEndian.AppendUint16(k, l4)
	}
	switch {
	case s.Proto == 0:
		return [][]byte{key(32, 0, 0)}
	case s.PortLo != 0:
		var out [][]byte
		for lo := uint32(s.PortLo); lo <= uint32(s.PortHi); {
			// The largest aligned block that starts at lo and fits.
			size := uint32(1)
			for lo%(size*2) == 0 && lo+size*2-1 <= uint32(s.PortHi) && size < 1<<16 {
				size *= 2
			}
			bits := 16
			for b := size; b > 1; b >>= 1 {
				bits--
			}
			out = append(out, key(40+bits, s.Proto, uint16(lo)))
			lo += size
		}
		return out
	case s.ICMPType >= 0 && s.ICMPCode >= 0:
		return [][]byte{key(56, s.Proto, uint16(s.ICMPType)<<8|uint16(s.ICMPCode))}
	case s.ICMPType >= 0:
		return [][]byte{key(48, s.Proto, uint16(s.ICMPType)<<8)}
	}
	return [][]byte{key(40, s.Proto, 0)}
}

// ShapeValue is the value of every shapes entry (the program only tests
// that an entry exists).
func ShapeValue() []byte { return []byte{1} }
