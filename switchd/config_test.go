package switchd

import (
	"strings"
	"testing"
	"time"
)

func TestParseListen(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		err  bool
	}{
		// Without an address, loopback: listening beyond it is a choice
		// to spell out.
		{in: "ptcp:6653", want: Target{"tcp", "127.0.0.1:6653", false}},
		{in: "ptcp", want: Target{"tcp", "127.0.0.1:6653", false}},
		{in: "ptcp:", want: Target{"tcp", "127.0.0.1:6653", false}},
		{in: "ptcp:7000:0.0.0.0", want: Target{"tcp", "0.0.0.0:7000", false}},
		{in: "ptcp:7000:[::]", want: Target{"tcp", "[::]:7000", false}},
		{in: "ptcp:7000:::1", want: Target{"tcp", "[::1]:7000", false}},
		{in: "pssl:6653", want: Target{"tcp", "127.0.0.1:6653", true}},
		{in: "pssl::10.0.0.1", want: Target{"tcp", "10.0.0.1:6653", true}},
		{in: "punix:/run/x.sock", want: Target{"unix", "/run/x.sock", false}},
		{in: "ptcp:http", err: true},
		{in: "ptcp:6653:nohost", err: true},
		{in: "pssl:99999", err: true},
		{in: "punix:", err: true},
		{in: "tcp:6653", err: true},
	} {
		got, err := ParseListen(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseListen(%q) = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseController(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		err  bool
	}{
		{in: "tcp:10.0.0.1", want: Target{"tcp", "10.0.0.1:6653", false}},
		{in: "tcp:10.0.0.1:6633", want: Target{"tcp", "10.0.0.1:6633", false}},
		{in: "ssl:ctl.example:6653", want: Target{"tcp", "ctl.example:6653", true}},
		{in: "ssl:[2001:db8::1]", want: Target{"tcp", "[2001:db8::1]:6653", true}},
		{in: "unix:/run/c.sock", want: Target{"unix", "/run/c.sock", false}},
		{in: "ssl:", err: true},
		{in: "ssl:h:port", err: true},
		{in: "pssl:6653", err: true},
	} {
		got, err := ParseController(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseController(%q) = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestValidateTLSAndFailMode(t *testing.T) {
	ssl := SSLConfig{PrivateKey: "k.pem", Certificate: "c.pem", CACert: "ca.pem"}
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string // substring; "" means valid
	}{
		{"plain", Config{Bridges: []BridgeConfig{{Name: "br0", Listen: []string{"ptcp:6653"}}}}, ""},
		{"pssl without files", Config{Bridges: []BridgeConfig{{Name: "br0", Listen: []string{"pssl:6653"}}}}, "--private-key"},
		{"ssl without CA", Config{SSL: SSLConfig{PrivateKey: "k", Certificate: "c"},
			Bridges: []BridgeConfig{{Name: "br0", Controllers: []string{"ssl:127.0.0.1"}}}}, "--ca-cert"},
		{"ssl with files", Config{SSL: ssl, Bridges: []BridgeConfig{{Name: "br0", Controllers: []string{"ssl:127.0.0.1"}}}}, ""},
		{"secure", Config{Bridges: []BridgeConfig{{Name: "br0", FailMode: "secure"}}}, ""},
		{"standalone", Config{Bridges: []BridgeConfig{{Name: "br0", FailMode: "standalone"}}}, "NORMAL"},
		{"unknown fail mode", Config{Bridges: []BridgeConfig{{Name: "br0", FailMode: "open"}}}, "fail-mode"},
	} {
		err := tc.cfg.Validate()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestNextBackoff(t *testing.T) {
	for _, tc := range []struct {
		cur, up, want time.Duration
	}{
		{time.Second, 0, 2 * time.Second},               // refused: back off
		{4 * time.Second, 0, 8 * time.Second},           //
		{8 * time.Second, 0, 8 * time.Second},           // capped
		{4 * time.Second, time.Second, 8 * time.Second}, // dropped at once: still backing off
		{4 * time.Second, 5 * time.Second, time.Second}, // a real session: start over
		{time.Second, time.Second, time.Second},
	} {
		if got := nextBackoff(tc.cur, tc.up); got != tc.want {
			t.Errorf("nextBackoff(%v, %v) = %v, want %v", tc.cur, tc.up, got, tc.want)
		}
	}
}
