// Command genpcap writes a pcap of UDP/IPv4 traffic for goko's side-by-side
// benchmarks (bench/ovs-compare.sh).
//
// The capture holds -n packets spread over -flows distinct UDP 5-tuples. Flow
// i goes to 10.1.X.Y with X = i mod 256, so every one of the 256 rules
// "ip,in_port=1,nw_dst=10.1.X.0/24" gets an equal share of the traffic, and
// Y, the source address and the source port tell the flows apart. Packets
// visit the flows in a fixed pseudo-random order (a new permutation on every
// pass over the flows), so consecutive packets rarely share a flow, as on a
// busy link. The output is deterministic for a given set of flags.
//
// Frame sizes follow the benchmarking convention: a "64-byte frame" counts
// the 4-byte Ethernet FCS, which a capture does not hold, so it is stored as
// 60 bytes. The IMIX mix is 7:4:1 of 64, 570 and 1518-byte frames (354 bytes
// on average), interleaved.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/goko-net/goko/header"
)

// fcsLen is the Ethernet frame check sequence that a capture leaves out.
const fcsLen = 4

// Header lengths of the frames genpcap builds.
const (
	ethLen  = header.EthernetLen
	ipv4Len = header.IPv4MinLen
	udpLen  = header.UDPLen
	hdrLen  = ethLen + ipv4Len + udpLen
)

// imixPattern is one period of the 7:4:1 IMIX mix, interleaved so that a
// burst of 32 packets carries roughly the mix's proportions.
var imixPattern = []int{64, 570, 64, 64, 570, 64, 1518, 64, 570, 64, 64, 570}

func main() {
	out := flag.String("o", "", "output pcap file (required)")
	n := flag.Int("n", 40000, "number of packets")
	flows := flag.Int("flows", 10000, "number of distinct UDP 5-tuples (1 to 16M)")
	mix := flag.String("mix", "64", "frame sizes: 64 (64-byte frames) or imix (7:4:1 of 64/570/1518 bytes)")
	size := flag.Int("size", 0, "fixed frame size in bytes, FCS included (overrides -mix)")
	seed := flag.Uint64("seed", 1, "seed of the flow order")
	flag.Parse()
	if err := run(*out, *n, *flows, *mix, *size, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genpcap:", err)
		os.Exit(1)
	}
}

func run(out string, n, flows int, mix string, size int, seed uint64) error {
	if out == "" {
		return errors.New("-o is required")
	}
	if n < 1 {
		return fmt.Errorf("-n %d: need at least one packet", n)
	}
	if flows < 1 || flows > 1<<24 {
		return fmt.Errorf("-flows %d: must be between 1 and %d", flows, 1<<24)
	}
	var sizes []int
	switch {
	case size != 0:
		if size < hdrLen+fcsLen || size > 9018 {
			return fmt.Errorf("-size %d: must be between %d and 9018", size, hdrLen+fcsLen)
		}
		sizes = []int{size}
	case mix == "64":
		sizes = []int{64}
	case mix == "imix":
		sizes = imixPattern
	default:
		return fmt.Errorf("-mix %q: want 64 or imix", mix)
	}

	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := writeGlobalHeader(w); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}

	rng := rand.New(rand.NewPCG(seed, 0x676f6b6f))
	order := make([]int, flows)
	frame := make([]byte, 9018)
	var total int
	for i := 0; i < n; i++ {
		if i%flows == 0 {
			for j := range order {
				order[j] = j
			}
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		}
		capLen := sizes[i%len(sizes)] - fcsLen
		buildFrame(frame[:capLen], order[i%flows])
		if err := writeRecord(w, i, frame[:capLen]); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", out, err)
		}
		total += capLen + fcsLen
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", out, err)
	}
	fmt.Fprintf(os.Stderr, "genpcap: wrote %s: %d packets, %d flows, average frame %.1f bytes (FCS included)\n",
		out, n, flows, float64(total)/float64(n))
	return nil
}

// writeGlobalHeader writes a classic little-endian pcap header with
// microsecond timestamps and Ethernet link type.
func writeGlobalHeader(w *bufio.Writer) error {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(h[20:], 1)     // LINKTYPE_ETHERNET
	_, err := w.Write(h[:])
	return err
}

// writeRecord writes one packet record; packet i is stamped i microseconds
// after the epoch (replay with infinite_rx ignores timestamps).
func writeRecord(w *bufio.Writer, i int, frame []byte) error {
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(i/1000000))
	binary.LittleEndian.PutUint32(h[4:], uint32(i%1000000))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(frame)
	return err
}

// buildFrame fills frame (its whole length) with an Ethernet/IPv4/UDP packet
// of flow number i:
//
//	src 10.0.0.1 + (i>>8)/254, sport 1024 + i%60000
//	dst 10.1.(i&255).(1 + (i>>8)%254), dport 5001
//
// The destination's third byte spreads the flows over the 256 /24 rules; the
// source address carries what the destination's last byte cannot, so any two
// flows differ in their 5-tuple.
func buildFrame(frame []byte, flow int) {
	for i := range frame {
		frame[i] = 0
	}
	// Ethernet: locally administered unicast addresses.
	copy(frame[0:6], []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02})
	copy(frame[6:12], []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01})
	header.Ethernet(frame).SetType(header.EtherTypeIPv4)

	ip := header.IPv4(frame[ethLen:])
	ipTotal := len(frame) - ethLen
	hi := flow >> 8
	// Source 10.0.A.B carries the high bits of the flow number, so that the
	// destination's last byte (1..254) can wrap without two flows colliding.
	ip.Encode(&header.IPv4Fields{
		TotalLen: uint16(ipTotal),
		ID:       uint16(flow),
		Flags:    header.IPv4FlagDF,
		TTL:      64,
		Protocol: header.IPProtoUDP,
		Src:      10<<24 | (1+uint32(hi/254))&0xffff,
		Dst:      uint32(10)<<24 | 1<<16 | uint32(flow&255)<<8 | uint32(1+hi%254),
	})

	udp := ip[ipv4Len:]
	binary.BigEndian.PutUint16(udp[0:], uint16(1024+flow%60000))
	binary.BigEndian.PutUint16(udp[2:], 5001)
	binary.BigEndian.PutUint16(udp[4:], uint16(ipTotal-ipv4Len))
	// UDP checksum 0: none, which IPv4 allows.
	payload := udp[udpLen:]
	for i := range payload {
		payload[i] = byte(i)
	}
}
