package ofclient

import "testing"

func TestParseTarget(t *testing.T) {
	tests := []struct{ in, network, addr, bridge string }{
		{"br0", "unix", "/run/x/br0.mgmt", "br0"},
		{"tcp:127.0.0.1", "tcp", "127.0.0.1:6653", ""},
		{"tcp:127.0.0.1:6633", "tcp", "127.0.0.1:6633", ""},
		{"tcp:[::1]:7", "tcp", "[::1]:7", ""},
		{"tcp:[::1]", "tcp", "[::1]:6653", ""},
		{"tcp:localhost", "tcp", "localhost:6653", ""},
		{"unix:/tmp/s", "unix", "/tmp/s", ""},
		{"/tmp/br1.mgmt", "unix", "/tmp/br1.mgmt", ""},
		{"ssl:10.0.0.1", "tcp", "10.0.0.1:6653", ""},
	}
	for _, tc := range tests {
		got, err := ParseTarget(tc.in, "/run/x")
		if err != nil || got.Network != tc.network || got.Addr != tc.addr || got.Bridge != tc.bridge {
			t.Errorf("ParseTarget(%q) = %+v, %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{"", "tcp:", "unix:", "ptcp:6653", "pssl:", "tcp:1.2.3.4:0", "tcp:1.2.3.4:99999", "tcp:h:x"} {
		if got, err := ParseTarget(bad, ""); err == nil {
			t.Errorf("ParseTarget(%q) = %+v, want an error", bad, got)
		}
	}
	if got, _ := ParseTarget("ssl:h:7", ""); !got.TLS || got.String() != "ssl:h:7" {
		t.Errorf("ssl target: %+v", got)
	}
	if got, _ := ParseTarget("tcp:h:7", ""); got.TLS || got.String() != "tcp:h:7" {
		t.Errorf("tcp target: %+v", got)
	}
	if got, _ := ParseTarget("br7", ""); got.Addr != "/run/goko/br7.mgmt" {
		t.Errorf("default run dir: %+v", got)
	}
}
