// Package fakeswitch is a tiny in-process OpenFlow 1.3 switch for testing
// ofctl's client without the real switch daemon. It answers HELLO,
// ECHO, FEATURES, GET_CONFIG, BARRIER, FLOW_MOD, GROUP_MOD, METER_MOD,
// PORT_MOD, PACKET_OUT, goko's experimenter messages (filter programs
// and maps, see goko.go) and the multipart requests ofctl and ovs-ofctl
// send (DESC, FLOW, AGGREGATE, TABLE, PORT_STATS, PORT_DESC,
// TABLE_FEATURES, GROUP*, METER*, goko's FILTER_PROGS and MAP), keeps
// naive flow, group and meter tables, records every message it receives,
// and can push asynchronous messages (packet-in, ...) with SendAsync.
//
// It is deliberately simple: flow matching for delete, modify and stats
// is exact equality of the match (or "everything" for an empty match),
// which is all the tests need.
package fakeswitch

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"sync"

	"github.com/goko-net/goko/openflow"
)

// Received is one message the switch read.
type Received struct {
	Xid uint32
	Msg openflow.Message
	Raw []byte
}

// Switch is the fake switch. Set its exported fields before serving.
type Switch struct {
	Features openflow.FeaturesReply
	Config   openflow.SwitchConfig
	Desc     openflow.DescReply
	Ports    []openflow.Port
	Stats    []openflow.PortStats
	Tables   []openflow.TableStats
	// MaxReplyLen splits multipart replies into messages of at most this
	// many bytes (0: 65535), to exercise the MORE flag.
	MaxReplyLen int
	// Reject, when set, is asked about every FLOW_MOD; returning true
	// makes the switch answer with an ERROR carrying code.
	Reject func(fm *openflow.FlowMod) (code openflow.ErrorCode, reject bool)
	// HelloVersion, when set, is the version the switch's HELLO
	// advertises (default: a 1.3 version bitmap).
	HelloVersion uint8

	// AcceptAll makes GROUP_MOD and METER_MOD succeed without changing
	// the tables (for tests that only look at what was sent).
	AcceptAll bool
	// MapChunk is the number of map entries per MAP multipart reply
	// (0: 100), to exercise the MORE flag.
	MapChunk int
	// Verify, when set, is asked about every complete filter program
	// object; an error message rejects the load (e.g. a GOKO_VERIFIER
	// error with the verifier's log). Maps gives the program's maps.
	Verify func(id uint32, name string, obj []byte) (maps []openflow.GokoMapInfo, err *openflow.ErrorMsg)

	mu       sync.Mutex
	flows    []openflow.FlowStats
	groups   []openflow.GroupDesc
	meters   []openflow.MeterConfig
	received []Received
	conns    map[*conn]bool
	progs    map[uint32]*prog
	loads    map[uint32]*pendingLoad
}

// conn is one client connection; w is shared by the handler and SendAsync.
type conn struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (c *conn) write(b []byte, flush bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	if flush {
		return c.w.Flush()
	}
	return nil
}

// New returns a switch with a datapath id, 254 tables, two ports and LOCAL.
func New() *Switch {
	s := &Switch{
		Features: openflow.FeaturesReply{DatapathID: 0x0000aabbccddeeff, NBuffers: 0, NTables: 254,
			Capabilities: openflow.CapFlowStats | openflow.CapTableStats | openflow.CapPortStats | openflow.CapGroupStats},
		Config: openflow.SwitchConfig{Flags: openflow.FragNormal, MissSendLen: 128},
		Desc: openflow.DescReply{MfrDesc: "goko", HWDesc: "fake switch", SWDesc: "0.0",
			SerialNum: "None", DPDesc: "test bridge"},
		Ports: []openflow.Port{
			{PortNo: 1, HWAddr: [6]byte{0x02, 0, 0, 0, 0, 1}, Name: "p1", State: openflow.PortStateLive,
				Curr: openflow.PortFeature10GbFD | openflow.PortFeatureCopper, CurrSpeed: 10000000, MaxSpeed: 0},
			{PortNo: 2, HWAddr: [6]byte{0x02, 0, 0, 0, 0, 2}, Name: "p2", Config: openflow.PortConfigNoPacketIn,
				State: openflow.PortStateLinkDown},
			{PortNo: openflow.PortLocal, HWAddr: [6]byte{0x02, 0, 0, 0, 0, 0xfe}, Name: "br0",
				Config: openflow.PortConfigDown, State: openflow.PortStateLinkDown},
		},
		Stats: []openflow.PortStats{
			{PortNo: 1, RxPackets: 10, TxPackets: 20, RxBytes: 1000, TxBytes: 2000, RxDropped: 1, DurationSec: 5, DurationNsec: 5e8},
			{PortNo: 2, RxPackets: ^uint64(0), TxPackets: 0, RxBytes: ^uint64(0), RxErrors: 3, Collisions: ^uint64(0)},
			{PortNo: openflow.PortLocal},
		},
	}
	for i := 0; i < 6; i++ {
		s.Tables = append(s.Tables, openflow.TableStats{TableID: uint8(i), LookupCount: 100, MatchedCount: 40})
	}
	return s
}

// AddFlow installs a flow directly.
func (s *Switch) AddFlow(f openflow.FlowStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flows = append(s.flows, f)
}

// Flows returns a copy of the flow table.
func (s *Switch) Flows() []openflow.FlowStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openflow.FlowStats(nil), s.flows...)
}

// Received returns the messages received so far (HELLO included).
func (s *Switch) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Listen serves every connection accepted on ln until ln is closed.
func (s *Switch) Listen(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go s.Serve(c)
	}
}

// Serve speaks OpenFlow on c until the peer closes it.
func (s *Switch) Serve(c net.Conn) error {
	defer c.Close()
	cn := &conn{w: bufio.NewWriter(c)}
	send := func(xid uint32, m openflow.Message) error {
		b, err := openflow.Marshal(xid, m)
		if err != nil {
			return err
		}
		return cn.write(b, false)
	}
	hello := openflow.NewHello(openflow.Version)
	if s.HelloVersion != 0 {
		hello = &openflow.Hello{Version: s.HelloVersion}
	}
	if err := send(1, hello); err != nil {
		return err
	}
	if err := cn.write(nil, true); err != nil {
		return err
	}
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[*conn]bool{}
	}
	s.conns[cn] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, cn)
		s.mu.Unlock()
	}()
	r := bufio.NewReader(c)
	var buf []byte
	for {
		raw, err := openflow.ReadMessage(r, buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		xid, m, err := openflow.Decode(raw)
		if err != nil {
			code, _ := openflow.CodeOf(err)
			send(xid, openflow.NewErrorReply(code, raw))
			cn.write(nil, true)
			continue
		}
		s.mu.Lock()
		s.received = append(s.received, Received{Xid: xid, Msg: m, Raw: append([]byte(nil), raw...)})
		s.mu.Unlock()
		if err := s.handle(xid, m, raw, cn, send); err != nil {
			return err
		}
		// Like a real switch, answer without waiting for more input.
		if r.Buffered() == 0 {
			if err := cn.write(nil, true); err != nil {
				return err
			}
		}
	}
}

// SendAsync sends m (xid 0) to every connected client, as a switch sends
// PACKET_IN, FLOW_REMOVED, PORT_STATUS or goko's MAP_CONTENTS.
func (s *Switch) SendAsync(m openflow.Message) error {
	b, err := openflow.Marshal(0, m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.write(b, true)
	}
	return nil
}

// Connections returns the number of clients connected now.
func (s *Switch) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Switch) handle(xid uint32, m openflow.Message, raw []byte, cn *conn, send func(uint32, openflow.Message) error) error {
	switch m := m.(type) {
	case *openflow.Hello:
	case *openflow.EchoRequest:
		return send(xid, &openflow.EchoReply{Data: m.Data})
	case *openflow.FeaturesRequest:
		s.mu.Lock()
		f := s.Features
		s.mu.Unlock()
		return send(xid, &f)
	case *openflow.GetConfigRequest:
		s.mu.Lock()
		c := s.Config
		s.mu.Unlock()
		return send(xid, &openflow.GetConfigReply{SwitchConfig: c})
	case *openflow.SetConfig:
		s.mu.Lock()
		s.Config = m.SwitchConfig
		s.mu.Unlock()
	case *openflow.BarrierRequest:
		return send(xid, &openflow.BarrierReply{})
	case *openflow.FlowMod:
		if s.Reject != nil {
			if code, bad := s.Reject(m); bad {
				return send(xid, openflow.NewErrorReply(code, raw))
			}
		}
		if e := s.checkFilterProgs(m); e != nil {
			return send(xid, e)
		}
		s.flowMod(m)
	case *openflow.GroupMod:
		if code, bad := s.groupMod(m); bad {
			return send(xid, openflow.NewErrorReply(code, raw))
		}
	case *openflow.MeterMod:
		if code, bad := s.meterMod(m); bad {
			return send(xid, openflow.NewErrorReply(code, raw))
		}
	case *openflow.PortMod:
		if code, bad := s.portMod(m); bad {
			return send(xid, openflow.NewErrorReply(code, raw))
		}
	case *openflow.PacketOut:
		if m.InPort != openflow.PortController && m.InPort != openflow.PortLocal && m.InPort > openflow.PortMax {
			return send(xid, openflow.NewErrorReply(openflow.BRCBadPort, raw))
		}
	case *openflow.Experimenter:
		return s.experimenter(xid, m, raw, send)
	case *openflow.MultipartRequest:
		if e, ok := m.Body.(*openflow.MultipartExperimenterBody); ok {
			return s.multipartExperimenter(xid, e, raw, cn, send)
		}
		body := s.multipart(m.Body)
		if body == nil {
			return send(xid, openflow.NewErrorReply(openflow.BRCBadMultipart, raw))
		}
		b, err := openflow.AppendMultipartReplies(nil, xid, body, s.MaxReplyLen)
		if err != nil {
			return err
		}
		return cn.write(b, false)
	default:
		return send(xid, openflow.NewErrorReply(openflow.BRCBadType, raw))
	}
	return nil
}

func (s *Switch) multipart(req openflow.MultipartBody) openflow.MultipartBody {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r := req.(type) {
	case *openflow.DescRequest:
		d := s.Desc
		return &d
	case *openflow.PortDescRequest:
		return &openflow.PortDescReply{Ports: append([]openflow.Port(nil), s.Ports...)}
	case *openflow.PortStatsRequest:
		var out []openflow.PortStats
		for _, p := range s.Stats {
			if r.PortNo == openflow.PortAny || r.PortNo == p.PortNo {
				out = append(out, p)
			}
		}
		return &openflow.PortStatsReply{Stats: out}
	case *openflow.TableStatsRequest:
		out := append([]openflow.TableStats(nil), s.Tables...)
		for i := range out {
			out[i].ActiveCount = 0
			for _, f := range s.flows {
				if f.TableID == out[i].TableID {
					out[i].ActiveCount++
				}
			}
		}
		return &openflow.TableStatsReply{Stats: out}
	case *openflow.TableFeaturesRequest:
		// ovs-ofctl asks for these before flow mods and table-specific
		// dumps, and insists on the eight required properties.
		var out openflow.TableFeaturesReply
		n := int(s.Features.NTables)
		for i := 0; i < n; i++ {
			out.Tables = append(out.Tables, openflow.FullTableFeatures(uint8(i), n, fmt.Sprintf("table%d", i), 1000000))
		}
		return &out
	case *openflow.FlowStatsRequest:
		var out []openflow.FlowStats
		for _, f := range s.flows {
			if selects(f, r.TableID, r.Cookie, r.CookieMask, &r.Match, false, 0) {
				out = append(out, f)
			}
		}
		return &openflow.FlowStatsReply{Stats: out}
	case *openflow.GroupDescRequest, *openflow.GroupStatsRequest, *openflow.GroupFeaturesRequest,
		*openflow.MeterConfigRequest, *openflow.MeterStatsRequest, *openflow.MeterFeaturesRequest:
		return s.groupMeterMultipart(req)
	case *openflow.AggregateStatsRequest:
		var a openflow.AggregateStatsReply
		for _, f := range s.flows {
			if selects(f, r.TableID, r.Cookie, r.CookieMask, &r.Match, false, 0) {
				a.FlowCount++
				a.PacketCount += f.PacketCount
				a.ByteCount += f.ByteCount
			}
		}
		return &a
	}
	return nil
}

// selects reports whether flow f is selected by a delete, modify or
// stats request: table (or all), cookie under mask, and a match that is
// empty or equal (and, when strict, the same priority).
func selects(f openflow.FlowStats, table uint8, cookie, mask uint64, m *openflow.Match, strict bool, prio uint16) bool {
	if table != openflow.TableAll && f.TableID != table {
		return false
	}
	if f.Cookie&mask != cookie&mask {
		return false
	}
	if strict {
		return f.Priority == prio && sameMatch(&f.Match, m)
	}
	return len(m.Fields) == 0 || sameMatch(&f.Match, m)
}

func sameMatch(a, b *openflow.Match) bool {
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	return len(a.Fields) == 0 || reflect.DeepEqual(a.Fields, b.Fields)
}

func (s *Switch) flowMod(m *openflow.FlowMod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	strict := m.Command == openflow.FlowModifyStrict || m.Command == openflow.FlowDeleteStrict
	switch m.Command {
	case openflow.FlowAdd:
		nf := openflow.FlowStats{TableID: m.TableID, Priority: m.Priority, IdleTimeout: m.IdleTimeout,
			HardTimeout: m.HardTimeout, Flags: m.Flags, Cookie: m.Cookie, Match: m.Match, Instructions: m.Instructions}
		for i, f := range s.flows {
			if f.TableID == m.TableID && f.Priority == m.Priority && sameMatch(&f.Match, &m.Match) {
				s.flows[i] = nf
				return
			}
		}
		s.flows = append(s.flows, nf)
	case openflow.FlowModify, openflow.FlowModifyStrict:
		for i, f := range s.flows {
			if selects(f, m.TableID, m.Cookie, m.CookieMask, &m.Match, strict, m.Priority) {
				s.flows[i].Instructions = m.Instructions
			}
		}
	case openflow.FlowDelete, openflow.FlowDeleteStrict:
		kept := s.flows[:0]
		for _, f := range s.flows {
			if !selects(f, m.TableID, m.Cookie, m.CookieMask, &m.Match, strict, m.Priority) {
				kept = append(kept, f)
			}
		}
		s.flows = kept
	}
}
