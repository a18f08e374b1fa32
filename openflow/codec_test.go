package openflow

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func mustMarshal(t testing.TB, xid uint32, m Message) []byte {
	t.Helper()
	b, err := Marshal(xid, m)
	if err != nil {
		t.Fatalf("Marshal(%T): %v", m, err)
	}
	return b
}

func name(m Message) string {
	s := fmt.Sprintf("%v", m.Type())
	switch mp := m.(type) {
	case *MultipartRequest:
		s += "/" + mp.Body.MultipartType().String()
	case *MultipartReply:
		s += "/" + mp.Body.MultipartType().String()
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	seen := map[Type]bool{}
	seenMP := map[string]bool{}
	for i, m := range sampleMessages() {
		t.Run(fmt.Sprintf("%d-%s", i, name(m)), func(t *testing.T) {
			b := mustMarshal(t, uint32(i), m)
			if int(u16(b, 2)) != len(b) {
				t.Fatalf("length field %d, encoded %d bytes", u16(b, 2), len(b))
			}
			if len(b)%8 != 0 && m.Type() != TypeEchoRequest && m.Type() != TypeEchoReply &&
				m.Type() != TypeExperimenter && m.Type() != TypeError && m.Type() != TypePacketIn && m.Type() != TypePacketOut {
				// Not required by the spec, but every fixed layout is 8-aligned.
				t.Logf("note: %d bytes", len(b))
			}
			xid, got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v\n%s", err, hex.Dump(b))
			}
			if xid != uint32(i) {
				t.Errorf("xid %d, want %d", xid, i)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip mismatch\n got: %#v\nwant: %#v", got, m)
			}
			b2 := mustMarshal(t, uint32(i), got)
			if !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs")
			}
		})
		seen[m.Type()] = true
		switch mp := m.(type) {
		case *MultipartRequest:
			seenMP["req"+mp.Body.MultipartType().String()] = true
		case *MultipartReply:
			seenMP["rep"+mp.Body.MultipartType().String()] = true
		}
	}
	for ty := TypeHello; ty <= TypeMeterMod; ty++ {
		if !seen[ty] {
			t.Errorf("no sample for %v", ty)
		}
	}
	for _, mt := range append([]MultipartType{MultipartExperimenter}, func() (l []MultipartType) {
		for i := MultipartDesc; i <= MultipartPortDesc; i++ {
			l = append(l, i)
		}
		return
	}()...) {
		if !seenMP["req"+mt.String()] || !seenMP["rep"+mt.String()] {
			t.Errorf("no request+reply sample for %v", mt)
		}
	}
}

// TestDecodeDoesNotAlias checks that Decode copies its input.
func TestDecodeDoesNotAlias(t *testing.T) {
	b := mustMarshal(t, 1, &EchoRequest{Data: []byte("abc")})
	_, m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	b[8] = 'X'
	if got := string(m.(*EchoRequest).Data); got != "abc" {
		t.Fatalf("decoded message aliases the input: %q", got)
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.Join(strings.Fields(s), "")
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden bytes written by hand from the OpenFlow 1.3.5 structures.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		hex  string
	}{{
		name: "features reply",
		msg: &FeaturesReply{DatapathID: 0x0000000000000001, NBuffers: 0, NTables: 254,
			Capabilities: CapFlowStats | CapTableStats | CapPortStats | CapGroupStats},
		hex: `04 06 0020 00000011
		      0000000000000001 00000000 fe 00 0000 0000000f 00000000`,
	}, {
		name: "flow mod in_port=1 actions=output:2",
		msg: &FlowMod{TableID: 0, Command: FlowAdd, Priority: 0x8000, BufferID: NoBuffer,
			OutPort: PortAny, OutGroup: GroupAny,
			Match:        NewMatch(OXMInPortVal(1)),
			Instructions: []Instruction{InstApplyActions{Actions: []Action{ActionOutput{Port: 2, MaxLen: 0xffe5}}}}},
		hex: `04 0e 0058 00000011
		      0000000000000000 0000000000000000 00 00 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000
		      0001 000c 80000004 00000001 00000000
		      0004 0018 00000000
		      0000 0010 00000002 ffe5 000000000000`,
	}, {
		name: "hello with version bitmap",
		msg:  NewHello(4),
		hex:  `04 00 0010 00000011 0001 0008 00000010`,
	}, {
		name: "packet-in with masked eth_dst",
		msg: &PacketIn{BufferID: NoBuffer, TotalLen: 2, Reason: PacketInReasonNoMatch, TableID: 1, Cookie: 2,
			Match: NewMatch(OXMMACVal(OXMEthDst, [6]byte{1, 0, 0, 0, 0, 0}, &[6]byte{1, 0, 0, 0, 0, 0})),
			Data:  []byte{0xaa, 0xbb}},
		hex: `04 0a 0034 00000011
		      ffffffff 0002 00 01 0000000000000002
		      0001 0014 8000070c 010000000000 010000000000 00000000
		      0000 aabb`,
	}, {
		name: "multipart port desc request",
		msg:  &MultipartRequest{Body: &PortDescRequest{}},
		hex:  `04 12 0010 00000011 000d 0000 00000000`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.hex)
			got := mustMarshal(t, 0x11, tt.msg)
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding mismatch\n got: %x\nwant: %x", got, want)
			}
			_, m, err := Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tt.msg) {
				t.Fatalf("decode mismatch\n got: %#v\nwant: %#v", m, tt.msg)
			}
		})
	}
}

// TestDecodeErrors checks the OpenFlow error code of malformed messages.
func TestDecodeErrors(t *testing.T) {
	fm := func(match, insts string) string {
		body := `0000000000000000 0000000000000000 00 00 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000` + match + insts
		n := len(unhex(t, body)) + 8
		return fmt.Sprintf("04 0e %04x 00000001 %s", n, body)
	}
	po := func(actions string) string {
		n := len(unhex(t, actions))
		return fmt.Sprintf("04 0d %04x 00000001 ffffffff fffffffd %04x 000000000000 %s", 24+n, n, actions)
	}
	tests := []struct {
		name string
		hex  string
		want ErrorCode
	}{
		{"short header", "04 00 00", BRCBadLen},
		{"length < 8", "04 00 0004 00000001", BRCBadLen},
		{"length > data", "04 00 0010 00000001", BRCBadLen},
		{"bad version", "01 05 0008 00000001", BRCBadVersion},
		{"hello version 0", "00 00 0008 00000001", HFCIncompatible},
		{"bad type", "04 1e 0008 00000001", BRCBadType},
		{"features request with body", "04 05 0009 00000001 00", BRCBadLen},
		{"features reply short", "04 06 0010 00000001 0000000000000000", BRCBadLen},
		{"unknown multipart", "04 12 0010 00000001 000e 0000 00000000", BRCBadMultipart},
		{"multipart short", "04 12 000c 00000001 000d 0000", BRCBadLen},
		{"desc request with body", "04 12 0018 00000001 0000 0000 00000000 0000000000000000", BRCBadLen},
		{"match standard type", fm("0000 0004 00000000", ""), BMCBadType},
		{"match length < 4", fm("0001 0002 00000000", ""), BMCBadLen},
		{"match too long", fm("0001 0010 00000000", ""), BMCBadLen},
		{"oxm bad length", fm("0001 000b 80000003 000001 00", ""), BMCBadLen},
		{"oxm unknown field", fm("0001 000c 80005004 00000001 00000000", ""), BMCBadField},
		{"oxm truncated", fm("0001 000a 80000004 0000 000000000000", ""), BMCBadLen},
		{"oxm mask on in_port", fm("0001 0010 80000108 00000001 ffffffff", ""), BMCBadMask},
		{"oxm value outside mask", fm("0001 0010 80001908 0a000001 ffffff00", ""), BMCBadWildcards},
		{"oxm bad value vlan_pcp", fm("0001 0009 80000e01 08 00000000 000000", ""), BMCBadValue},
		{"oxm dup field", fm("0001 0014 80000004 00000001 80000004 00000002 00000000", ""), BMCDupField},
		{"inst unknown", fm("0001 0004 00000000", "0009 0008 00000000"), BICUnknownInst},
		{"inst bad len", fm("0001 0004 00000000", "0001 0010 00000000 0000000000000000"), BICBadLen},
		{"inst truncated", fm("0001 0004 00000000", "0004 0010 00000000"), BICBadLen},
		{"inst len not multiple of 8", fm("0001 0004 00000000", "0004 000c 00000000 00000000"), BICBadLen},
		{"action unknown", fm("0001 0004 00000000", "0004 0010 00000000 0001 0008 00000000"), BACBadType},
		{"action bad len", fm("0001 0004 00000000", "0004 0010 00000000 0000 0008 00000000"), BACBadLen},
		{"packet-out action len 0", po("0000 0000 00000000"), BACBadLen},
		{"packet-out actions_len too big", "04 0d 0018 00000001 ffffffff fffffffd 0010 000000000000", BRCBadLen},
		{"set_field unknown", po("0019 0010 80005004 00000001 00000000"), BACBadSetType},
		{"set_field masked", po("0019 0010 80001908 0a000000 ff000000"), BACBadSetArgument},
		{"set_field bad len", po("0019 0010 80001805 0a00000000 000000"), BACBadSetLen},
		{"group bucket too short", "04 0f 0018 00000001 0000 00 00 00000001 0008 0000 00000000", GMFCBadBucket},
		{"table features bad prop", "04 12 0058 00000001 000c 0000 00000000 0048 00 0000000000" +
			strings.Repeat("00", 32) + "0000000000000000 0000000000000000 00000000 00000000 0009 0004 00000000", TFFCBadType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, m, err := Decode(unhex(t, tt.hex))
			if err == nil {
				t.Fatalf("decoded %#v, want error %v", m, tt.want)
			}
			code, ok := CodeOf(err)
			if !ok {
				t.Fatalf("error %v carries no code", err)
			}
			if code != tt.want {
				t.Fatalf("code %v (%v), want %v", code, err, tt.want)
			}
			var ofe interface{ OFError() (uint16, uint16) }
			if !errors.As(fmt.Errorf("wrapped: %w", err), &ofe) {
				t.Fatalf("errors.As finds no OFError")
			}
			if ty, c := ofe.OFError(); ty != uint16(tt.want.Type()) || c != tt.want.Code() {
				t.Fatalf("OFError() = %d/%d", ty, c)
			}
		})
	}
}

func TestErrorNames(t *testing.T) {
	for _, tc := range []struct {
		c    ErrorCode
		want string
	}{
		{BMCBadPrereq, "OFPBMC_BAD_PREREQ"},
		{BRCBadLen, "OFPBRC_BAD_LEN"},
		{BRCMultipartBufferOverflow, "OFPBRC_MULTIPART_BUFFER_OVERFLOW"},
		{BACBadSetArgument, "OFPBAC_BAD_SET_ARGUMENT"},
		{BICEperm, "OFPBIC_EPERM"},
		{GMFCEperm, "OFPGMFC_EPERM"},
		{MMFCOutOfBands, "OFPMMFC_OUT_OF_BANDS"},
		{TFFCEperm, "OFPTFFC_EPERM"},
		{RRFCBadRole, "OFPRRFC_BAD_ROLE"},
		{HFCEperm, "OFPHFC_EPERM"},
		{MakeErrorCode(ETBadMatch, 99), "OFPET_BAD_MATCH/99"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%#x: %q, want %q", uint32(tc.c), got, tc.want)
		}
	}
	if BMCDupField.Type() != ETBadMatch || BMCDupField.Code() != 10 || GMFCEperm.Code() != 14 || BRCMultipartBufferOverflow.Code() != 13 {
		t.Fatal("code values")
	}
}

func TestErrorReply(t *testing.T) {
	big := mustMarshal(t, 9, &EchoRequest{Data: make([]byte, 100)})
	_, _, err := Decode(big[:50])
	if err == nil {
		t.Fatal("want error")
	}
	r := ErrorReplyFor(err, big, BRCEperm)
	if r.Code != BRCBadLen || len(r.Data) != 64 || !bytes.Equal(r.Data, big[:64]) {
		t.Fatalf("reply %v len %d", r.Code, len(r.Data))
	}
	r = ErrorReplyFor(io.EOF, big[:10], BRCEperm)
	if r.Code != BRCEperm || len(r.Data) != 10 {
		t.Fatalf("fallback reply %v len %d", r.Code, len(r.Data))
	}
}

func TestReadMessage(t *testing.T) {
	var stream []byte
	msgs := sampleMessages()
	for i, m := range msgs {
		stream = append(stream, mustMarshal(t, uint32(i), m)...)
	}
	r := bytes.NewReader(stream)
	var buf []byte
	for i := range msgs {
		b, err := ReadMessage(r, buf)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		xid, m, err := Decode(b)
		if err != nil || xid != uint32(i) || !reflect.DeepEqual(m, msgs[i]) {
			t.Fatalf("message %d: xid %d err %v", i, xid, err)
		}
		buf = b
	}
	if _, err := ReadMessage(r, buf); err != io.EOF {
		t.Fatalf("at end: %v, want EOF", err)
	}
	if _, err := ReadMessage(bytes.NewReader([]byte{4, 0, 0, 16, 0, 0, 0, 0}), nil); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated: %v", err)
	}
	_, err := ReadMessage(bytes.NewReader([]byte{4, 0, 0, 4, 0, 0, 0, 0}), nil)
	if c, _ := CodeOf(err); c != BRCBadLen {
		t.Fatalf("short length: %v", err)
	}
}

func TestHelloNegotiate(t *testing.T) {
	for _, tc := range []struct {
		h  *Hello
		ok bool
	}{
		{NewHello(1, 4), true},
		{NewHello(1, 2, 3), false},
		{NewHello(4, 5, 6), true},
		{&Hello{Version: 5}, true},
		{&Hello{Version: 1}, false},
	} {
		b := mustMarshal(t, 1, tc.h)
		_, m, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := m.(*Hello).Negotiate(); ok != tc.ok || (ok && v != Version) {
			t.Errorf("%+v: Negotiate = %d, %v", tc.h, v, ok)
		}
	}
}

func TestMatchHelpers(t *testing.T) {
	fm := sampleMessages()
	var m *Match
	for _, msg := range fm {
		if f, ok := msg.(*FlowMod); ok {
			m = &f.Match
			break
		}
	}
	if o := m.Field(OXMInPort); o == nil || o.Uint32() != 1 {
		t.Fatalf("in_port: %+v", o)
	}
	if o := m.Field(OXMIPv4Src); o == nil || o.Addr().String() != "10.1.2.0" || o.MaskUint() != 0xffffff00 {
		t.Fatalf("ipv4_src: %+v", o)
	}
	if o := m.ExperimenterField(0xabcdef, 1); o == nil || o.Uint32() != 7 {
		t.Fatalf("experimenter field: %+v", o)
	}
	if m.Field(OXMUDPSrc) != nil {
		t.Fatal("udp_src present")
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckPrereqs(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		m    Match
		want ErrorCode
	}{
		{NewMatch(OXMPortVal(OXMTCPDst, 80)), BMCBadPrereq},
		{NewMatch(OXMEthTypeVal(0x86dd), OXMIPProtoVal(6), OXMPortVal(OXMTCPDst, 80)), 0},
		{NewMatch(OXMEthTypeVal(0x86dd), OXMIPProtoVal(17), OXMPortVal(OXMTCPDst, 80)), BMCBadPrereq},
		{NewMatch(OXMUint(OXMVlanPCP, 3)), BMCBadPrereq},
		{NewMatch(OXMVlanVIDVal(VIDPresent|3), OXMUint(OXMVlanPCP, 3)), 0},
		{NewMatch(OXMUint(OXMInPhyPort, 3)), BMCBadPrereq},
		{NewMatch(OXMUintMasked(OXMEthType, 0x800, 0xff00), OXMUint(OXMIPv4Src, 1)), BMCBadPrereq},
	} {
		err := tc.m.CheckPrereqs()
		c, _ := CodeOf(err)
		if c != tc.want {
			t.Errorf("%+v: %v, want %v", tc.m, err, tc.want)
		}
	}
	bad := NewMatch(OXMInPortVal(1), OXMInPortVal(2))
	if c, _ := CodeOf(bad.Validate()); c != BMCDupField {
		t.Errorf("dup: %v", bad.Validate())
	}
	bad = NewMatch(OXM{Field: OXMInPort, Value: []byte{1}})
	if c, _ := CodeOf(bad.Validate()); c != BMCBadLen {
		t.Errorf("len: %v", bad.Validate())
	}
}

func TestAppendMultipartReplies(t *testing.T) {
	var tables []TableFeatures
	for i := range 254 {
		tables = append(tables, FullTableFeatures(uint8(i), 254, fmt.Sprintf("table%d", i), 1000))
	}
	body := &TableFeaturesReply{Tables: tables}
	if _, err := Marshal(1, &MultipartReply{Body: body}); err == nil {
		t.Fatal("a 254-table reply should not fit one message")
	}
	out, err := AppendMultipartReplies(nil, 7, body, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []TableFeatures
	n := 0
	r := bytes.NewReader(out)
	for {
		b, err := ReadMessage(r, nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		xid, m, err := Decode(b)
		if err != nil || xid != 7 {
			t.Fatalf("part %d: %v", n, err)
		}
		rep := m.(*MultipartReply)
		more := rep.Flags&MultipartMore != 0
		if more != (r.Len() > 0) {
			t.Fatalf("part %d: more=%v with %d bytes left", n, more, r.Len())
		}
		got = append(got, rep.Body.(*TableFeaturesReply).Tables...)
		n++
	}
	if n < 2 || !reflect.DeepEqual(got, tables) {
		t.Fatalf("%d parts, %d tables", n, len(got))
	}
	// Small limit: each element in its own message.
	out, err = AppendMultipartReplies(nil, 7, &PortDescReply{Ports: make([]Port, 3)}, 16+64)
	if err != nil || len(out) != 3*(16+64) {
		t.Fatalf("split ports: %d bytes, %v", len(out), err)
	}
	if _, err = AppendMultipartReplies(nil, 7, &PortDescReply{Ports: make([]Port, 3)}, 16+63); err == nil {
		t.Fatal("element larger than the limit accepted")
	}
	// Empty list: one empty reply.
	out, err = AppendMultipartReplies(nil, 7, &FlowStatsReply{}, 0)
	if err != nil || len(out) != 16 {
		t.Fatalf("empty: %x %v", out, err)
	}
}

func TestDecodeAllocBound(t *testing.T) {
	// A flow-mod made of many tiny OXMs must decode in bounded time.
	var oxms []byte
	for i := 0; len(oxms) < 60000; i++ {
		oxms = append(oxms, 0xff, 0xff, byte(i>>8)&0xfe, 4, 0, 0, byte(i>>8), byte(i))
	}
	n := 4 + len(oxms)
	body := append(make([]byte, 40), 0, 1, byte(n>>8), byte(n))
	body = append(body, oxms...)
	body = padTo8(body, 40)
	msg := append([]byte{4, 14, 0, 0, 0, 0, 0, 1}, body...)
	patch16(msg, 2, uint16(len(msg)))
	if _, _, err := Decode(msg); err != nil {
		t.Fatal(err)
	}
}

func TestMatchString(t *testing.T) {
	m := NewMatch(OXMInPortVal(3), OXMEthTypeVal(0x800),
		OXMMACVal(OXMEthDst, [6]byte{2, 0, 0, 0, 0, 1}, nil),
		OXMAddrVal(OXMIPv4Dst, netip.MustParsePrefix("10.0.0.0/8")),
		OXMPortVal(OXMTCPDst, 80), NewExperimenterOXM(0xab, 1, []byte{1}, nil))
	want := "in_port=3,eth_type=0x800,eth_dst=02:00:00:00:00:01,ipv4_dst=10.0.0.0/255.0.0.0,tcp_dst=80,exp(0xab,1)=0x01"
	if got := m.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if (Match{}).String() != "any" {
		t.Fatal("empty match")
	}
}

// TestMatchBinary: MarshalBinary and UnmarshalBinary round-trip a match,
// and UnmarshalBinary applies the decoder's checks.
func TestMatchBinary(t *testing.T) {
	for _, m := range []Match{
		{},
		NewMatch(OXMEthTypeVal(0x0800), OXMAddrVal(OXMIPv4Dst, netip.MustParsePrefix("10.1.0.0/16"))),
		NewMatch(OXMInPortVal(3), OXMMetadataVal(0xf0, 0xff), OXMEthTypeVal(0x86dd),
			OXMAddrVal(OXMIPv6Src, netip.MustParsePrefix("2001:db8::/32"))),
	} {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b)%8 != 0 {
			t.Errorf("%v: %d bytes, not padded to 8", m, len(b))
		}
		var got Match
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if got.String() != m.String() {
			t.Errorf("round trip: %v, want %v", got, m)
		}
	}
	var m Match
	for _, bad := range [][]byte{nil, {0, 1, 0, 4}, {0, 1, 0, 4, 0, 0, 0, 0, 0}} {
		if err := m.UnmarshalBinary(bad); err == nil {
			t.Errorf("UnmarshalBinary(%x) accepted", bad)
		}
	}
}
