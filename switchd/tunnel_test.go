package switchd

import (
	"strings"
	"testing"
)

func TestParseVXLANPortSpec(t *testing.T) {
	s, err := ParsePortSpec("10=vxlan:local_ip=192.0.2.1/24,remote_ip=flow,underlay=eth1,gateway=192.0.2.254")
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != PortVXLAN || s.Number != 10 || s.Name != "vxlan10" || s.Tunnel.RemoteIP.IsValid() ||
		s.Tunnel.LocalIP.String() != "192.0.2.1" || s.Tunnel.Subnet.String() != "192.0.2.0/24" ||
		s.Tunnel.Underlay != "eth1" || s.Tunnel.DstPort != 4789 {
		t.Fatalf("parsed %+v", s)
	}
	if got := s.String(); got != "10=vxlan:local_ip=192.0.2.1/24,remote_ip=flow,underlay=eth1,gateway=192.0.2.254" {
		t.Errorf("String() = %q", got)
	}
	s, err = ParsePortSpec("vxlan:local_ip=10.0.0.1,remote_ip=10.0.0.2,underlay=ul0")
	if err != nil || s.Number != 0 || s.Tunnel.RemoteIP.String() != "10.0.0.2" {
		t.Fatalf("fixed remote: %+v %v", s, err)
	}
	for _, bad := range []string{
		"vxlan:remote_ip=flow,underlay=eth1",
		"vxlan:local_ip=192.0.2.1,underlay=eth1",
		"vxlan:local_ip=192.0.2.1,remote_ip=flow",
		"vxlan:local_ip=2001:db8::1,remote_ip=flow,underlay=eth1",
		"vxlan:local_ip=192.0.2.1,remote_ip=flow,underlay=eth1,gateway=192.0.2.254",
		"vxlan:local_ip=192.0.2.1/24,remote_ip=flow,underlay=eth1,gateway=10.0.0.1",
		"vxlan:local_ip=192.0.2.1,remote_ip=192.0.2.1,underlay=eth1",
		"vxlan:local_ip=192.0.2.1,remote_ip=flow,underlay=eth1,key=5",
		"vxlan:local_ip=192.0.2.1,remote_ip=flow,remote_ip=flow,underlay=eth1",
	} {
		if _, err := ParsePortSpec(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseNeighbor(t *testing.T) {
	if ip, mac, err := ParseNeighbor("192.0.2.2=02:00:00:00:00:02"); err != nil || ip.String() != "192.0.2.2" || mac.String() != "02:00:00:00:00:02" {
		t.Fatalf("%v %v %v", ip, mac, err)
	}
	for _, bad := range []string{"192.0.2.2", "192.0.2.2=ff:ff:ff:ff:ff:ff", "x=02:00:00:00:00:02", "192.0.2.2=02:00"} {
		if _, _, err := ParseNeighbor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	c := Config{Bridges: []BridgeConfig{{Name: "br0", Neighbors: []string{"bad"}}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "neighbor") {
		t.Errorf("bad neighbour not rejected: %v", err)
	}
}
