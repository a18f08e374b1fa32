package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/goko-net/goko/header"
)

// record is one packet read back from a capture.
type record struct{ data []byte }

func readPcap(t *testing.T, path string) []record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 1 {
		t.Fatalf("bad pcap global header % x", b[:min(len(b), 24)])
	}
	var recs []record
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			t.Fatalf("truncated record header at %d", off)
		}
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		orig := int(binary.LittleEndian.Uint32(b[off+12:]))
		if incl != orig || off+16+incl > len(b) {
			t.Fatalf("bad record at %d: incl %d orig %d", off, incl, orig)
		}
		recs = append(recs, record{b[off+16 : off+16+incl]})
		off += 16 + incl
	}
	return recs
}

func TestCaptures(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		flows   int
		mix     string
		avgSize float64 // FCS included
	}{
		{"64B 10k flows", 40000, 10000, "64", 64},
		{"64B 1k flows", 4000, 1000, "64", 64},
		{"imix", 1200, 300, "imix", (7*64 + 4*570 + 1518) / 12.0},
		{"one flow", 10, 1, "64", 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.pcap")
			if err := run(path, tc.n, tc.flows, tc.mix, 0, 1); err != nil {
				t.Fatal(err)
			}
			recs := readPcap(t, path)
			if len(recs) != tc.n {
				t.Fatalf("%d packets, want %d", len(recs), tc.n)
			}
			tuples := map[[12]byte]bool{}
			thirdBytes := map[byte]bool{}
			total := 0
			for i, r := range recs {
				p := r.data
				total += len(p) + fcsLen
				if header.Ethernet(p).Type() != header.EtherTypeIPv4 {
					t.Fatalf("packet %d: not IPv4", i)
				}
				ip := p[ethLen:]
				if !header.IPv4(ip).ChecksumValid() {
					t.Fatalf("packet %d: bad IPv4 checksum", i)
				}
				if int(binary.BigEndian.Uint16(ip[2:])) != len(p)-ethLen || ip[9] != 17 {
					t.Fatalf("packet %d: bad IPv4 length or protocol", i)
				}
				if ip[16] != 10 || ip[17] != 1 || ip[19] == 0 || ip[19] == 255 {
					t.Fatalf("packet %d: destination %v not in 10.1.X.1-254", i, ip[16:20])
				}
				if int(binary.BigEndian.Uint16(ip[ipv4Len+4:])) != len(p)-ethLen-ipv4Len {
					t.Fatalf("packet %d: bad UDP length", i)
				}
				var k [12]byte
				copy(k[:], ip[12:20])
				copy(k[8:], ip[ipv4Len:ipv4Len+4])
				tuples[k] = true
				thirdBytes[ip[18]] = true
			}
			if len(tuples) != tc.flows {
				t.Errorf("%d distinct 5-tuples, want %d", len(tuples), tc.flows)
			}
			if want := min(tc.flows, 256); len(thirdBytes) != want {
				t.Errorf("destinations cover %d /24s, want %d", len(thirdBytes), want)
			}
			if avg := float64(total) / float64(tc.n); avg != tc.avgSize {
				t.Errorf("average frame %.2f bytes, want %.2f", avg, tc.avgSize)
			}
		})
	}
}

func TestFlowsAreDistinctAtScale(t *testing.T) {
	// Flow numbers whose destination bytes wrap must still differ.
	seen := map[[12]byte]int{}
	frame := make([]byte, 60)
	for i := 0; i < 200000; i++ {
		buildFrame(frame, i)
		var k [12]byte
		copy(k[:], frame[ethLen+12:ethLen+20])
		copy(k[8:], frame[ethLen+ipv4Len:ethLen+ipv4Len+4])
		if j, ok := seen[k]; ok {
			t.Fatalf("flows %d and %d share a 5-tuple", j, i)
		}
		seen[k] = i
	}
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, out, mix string
		n, flows, size int
	}{
		{"no output", "", "64", 1, 1, 0},
		{"no packets", "x", "64", 0, 1, 0},
		{"no flows", "x", "64", 1, 0, 0},
		{"bad mix", "x", "jumbo", 1, 1, 0},
		{"tiny size", "x", "64", 1, 1, 40},
	} {
		out := tc.out
		if out != "" {
			out = filepath.Join(dir, out)
		}
		if err := run(out, tc.n, tc.flows, tc.mix, tc.size, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
