package openflow

import "testing"

func benchMsg() Message {
	return &FlowMod{Command: FlowAdd, Priority: 100, BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny,
		Match:        NewMatch(OXMInPortVal(1), OXMEthTypeVal(0x800), OXMIPProtoVal(6), OXMPortVal(OXMTCPDst, 80)),
		Instructions: []Instruction{InstApplyActions{Actions: []Action{ActionOutput{Port: 2}}}}}
}

func BenchmarkDecodeFlowMod(b *testing.B) {
	msg := mustMarshal(b, 1, benchMsg())
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeAliased(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendFlowMod(b *testing.B) {
	m := benchMsg()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], 1, m); err != nil {
			b.Fatal(err)
		}
	}
}
