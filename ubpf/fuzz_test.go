package ubpf_test

import (
	"errors"
	"testing"

	"github.com/goko-net/goko/ubpf"
)

// FuzzVerifyRun feeds random bytecode to the verifier under every kind and
// runs whatever it accepts. Nothing may panic; a program accepted as a
// filter or XDP program must never be stopped by a run-time check (that
// would be a verifier bug), and every run ends (the budget bounds loops).
func FuzzVerifyRun(f *testing.F) {
	f.Add([]byte{0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0})
	pkts := [][]byte{nil, {1}, make([]byte, 14), udpPacket([4]byte{1, 2, 3, 4}, 53, []byte("payload!"))}
	f.Fuzz(func(t *testing.T, code []byte) {
		code = code[:len(code)&^7]
		if len(code) > 8*4096 {
			return
		}
		for _, kind := range []ubpf.Kind{ubpf.KindFilter, ubpf.KindXDP, ubpf.KindRaw} {
			opts := ubpf.LoadOptions{Kind: kind, Maps: testMaps(t), Logger: quiet, MaxVerifierInsns: 50000}
			if kind == ubpf.KindRaw {
				opts.Helpers = ubpf.HelpersConformance
			}
			p, err := ubpf.Load(code, opts)
			if err != nil {
				continue
			}
			th := ubpf.NewThread()
			for _, pkt := range pkts {
				pkt = append([]byte(nil), pkt...)
				_, err := p.Run(th, pkt)
				var re *ubpf.RunError
				if kind != ubpf.KindRaw && errors.As(err, &re) {
					th.Close()
					t.Fatalf("verified %s program failed at run time: %v\n%s", kind, err, p.Disasm())
				}
			}
			th.Close()
		}
	})
}
