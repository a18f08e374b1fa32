package header

// The Internet checksum (RFC 1071): the one's complement of the one's
// complement sum of the data as big-endian 16-bit words. Sums are carried
// folded to 16 bits, so partial sums (a pseudo-header, then a payload)
// combine by passing one as the initial value of the next; data of odd
// length is padded with a zero byte, so only the last piece may be odd.

// Sum returns the one's complement sum of b added to initial, folded to
// 16 bits and not complemented. It is small enough to inline: the
// datapath sums a 20-byte IPv4 header per tunnel packet.
func Sum(b []byte, initial uint16) uint16 {
	s := uint64(initial)
	for ; len(b) >= 2; b = b[2:] {
		s += uint64(be.Uint16(b))
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return fold(s)
}

// Checksum returns the Internet checksum of b on top of the partial sum
// initial: the value to write into a zeroed checksum field, or 0 when b
// already holds a correct checksum.
func Checksum(b []byte, initial uint16) uint16 { return ^Sum(b, initial) }

// PseudoHeaderSum returns the sum of the IPv4 or IPv6 pseudo-header that
// TCP, UDP and ICMPv6 checksums cover: the source and destination
// addresses (4 or 16 bytes each), the protocol and the transport length.
func PseudoHeaderSum(proto uint8, src, dst []byte, length int) uint16 {
	s := uint64(Sum(dst, Sum(src, 0)))
	s += uint64(proto) + uint64(length>>16) + uint64(length&0xffff)
	return fold(s)
}

// Update returns checksum sum after the bytes old became new in the data
// it covers, without reading the rest of the data (RFC 1624, equation 3:
// HC' = ~(~HC + ~m + m')). old and new have the same even length, at most
// 32 KiB (they are fields, not payloads), and start at an even offset of
// the checksummed data.
func Update(sum uint16, old, new []byte) uint16 {
	s := uint32(^sum)
	for i := 0; i+1 < len(old); i += 2 {
		s += uint32(^be.Uint16(old[i:])) + uint32(be.Uint16(new[i:]))
	}
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return ^uint16(s)
}

// Update16 is Update for one 16-bit word that was old and is now new.
func Update16(sum, old, new uint16) uint16 {
	s := uint32(^sum) + uint32(^old) + uint32(new)
	s = s&0xffff + s>>16
	return ^uint16(s + s>>16)
}

// fold adds the carries of s back in until it fits 16 bits.
func fold(s uint64) uint16 {
	s = s&0xffffffff + s>>32
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return uint16(s + s>>16)
}
