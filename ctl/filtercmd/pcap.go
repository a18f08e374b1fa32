package filtercmd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Packet is one captured packet.
type Packet struct {
	Time    time.Time
	Data    []byte
	OrigLen int // length on the wire (Data may be truncated by the snaplen)
}

// PcapReader reads classic libpcap files: either byte order, microsecond
// (0xa1b2c3d4) or nanosecond (0xa1b23c4d) timestamps.
type PcapReader struct {
	r        io.Reader
	bo       binary.ByteOrder
	nano     bool
	LinkType uint32
	SnapLen  uint32
}

// ErrPcapNG is returned for pcapng files, which are not supported.
var ErrPcapNG = errors.New("pcapng files are not supported; convert with: editcap -F pcap in.pcapng out.pcap")

// NewPcapReader reads the file header.
func NewPcapReader(r io.Reader) (*PcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("pcap: reading file header: %w", err)
	}
	p := &PcapReader{r: r}
	switch {
	case binary.LittleEndian.Uint32(h[:]) == 0xa1b2c3d4:
		p.bo = binary.LittleEndian
	case binary.BigEndian.Uint32(h[:]) == 0xa1b2c3d4:
		p.bo = binary.BigEndian
	case binary.LittleEndian.Uint32(h[:]) == 0xa1b23c4d:
		p.bo, p.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[:]) == 0xa1b23c4d:
		p.bo, p.nano = binary.BigEndian, true
	case binary.LittleEndian.Uint32(h[:]) == 0x0a0d0d0a:
		return nil, ErrPcapNG
	default:
		return nil, fmt.Errorf("pcap: bad magic %#x", h[:4])
	}
	p.SnapLen = p.bo.Uint32(h[16:])
	p.LinkType = p.bo.Uint32(h[20:]) & 0x0fffffff
	return p, nil
}

// Next returns the next packet, or io.EOF.
func (p *PcapReader) Next() (Packet, error) {
	var h [16]byte
	if _, err := io.ReadFull(p.r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return Packet{}, fmt.Errorf("pcap: truncated record header")
		}
		return Packet{}, err
	}
	sec, frac := p.bo.Uint32(h[0:]), p.bo.Uint32(h[4:])
	incl, orig := p.bo.Uint32(h[8:]), p.bo.Uint32(h[12:])
	if incl > 1<<26 {
		return Packet{}, fmt.Errorf("pcap: record of %d bytes is too large", incl)
	}
	data := make([]byte, incl)
	if _, err := io.ReadFull(p.r, data); err != nil {
		return Packet{}, fmt.Errorf("pcap: truncated record: %w", err)
	}
	ns := int64(frac)
	if !p.nano {
		ns *= 1000
	}
	return Packet{Time: time.Unix(int64(sec), ns), Data: data, OrigLen: int(orig)}, nil
}

// WritePcap writes packets as a little-endian microsecond pcap file
// (Ethernet link type), for tests and tools.
func WritePcap(w io.Writer, pkts []Packet) error {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1)
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, p := range pkts {
		r := make([]byte, 16, 16+len(p.Data))
		binary.LittleEndian.PutUint32(r[0:], uint32(p.Time.Unix()))
		binary.LittleEndian.PutUint32(r[4:], uint32(p.Time.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(r[8:], uint32(len(p.Data)))
		orig := p.OrigLen
		if orig == 0 {
			orig = len(p.Data)
		}
		binary.LittleEndian.PutUint32(r[12:], uint32(orig))
		if _, err := w.Write(append(r, p.Data...)); err != nil {
			return err
		}
	}
	return nil
}
