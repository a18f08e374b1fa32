package flowsyntax

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/goko-net/goko/openflow"
)

// roundTrips are flow strings with the canonical form FormatFlowMod
// prints for them. ovs_test.go checks the same strings against
// ovs-ofctl, except those in notInOVS.
var roundTrips = []struct {
	in, want string
}{
	{"in_port=1,actions=output:2", "in_port=1 actions=output:2"},
	{"priority=10,in_port=1 actions=2", "priority=10,in_port=1 actions=output:2"},
	{"in_port=1 ,  actions = 2", "in_port=1 actions=output:2"},
	{"ip,nw_dst=10.0.0.0/24,actions=drop", "ip,nw_dst=10.0.0.0/24 actions=drop"},
	{"priority=10,ip,nw_dst=10.0.0.0/24 actions=output:2", "priority=10,ip,nw_dst=10.0.0.0/24 actions=output:2"},
	{"ip,nw_src=192.168.0.0/255.255.0.255,nw_dst=1.2.3.4/32 actions=output:1", "ip,nw_src=192.168.0.0/255.255.0.255,nw_dst=1.2.3.4 actions=output:1"},
	{"ip,ip_src=10.1.2.3,ip_dst=10.0.0.0/8 actions=drop", "ip,nw_src=10.1.2.3,nw_dst=10.0.0.0/8 actions=drop"},
	{"ipv4,nw_src=0.0.0.0/0 actions=drop", "ip actions=drop"},
	{"tcp,tp_dst=80,actions=normal", "tcp,tp_dst=80 actions=NORMAL"},
	{"tp_dst=80,tcp,actions=normal", "tcp,tp_dst=80 actions=NORMAL"},
	{"tcp,tcp_src=1024,tcp_dst=80 actions=drop", "tcp,tp_src=1024,tp_dst=80 actions=drop"},
	{"udp,tp_src=68,tp_dst=67 actions=controller", "udp,tp_src=68,tp_dst=67 actions=CONTROLLER:65535"},
	{"udp,udp_dst=53 actions=drop", "udp,tp_dst=53 actions=drop"},
	{"sctp,sctp_src=1,sctp_dst=2 actions=drop", "sctp,tp_src=1,tp_dst=2 actions=drop"},
	{"tcp6,tp_dst=22 actions=drop", "tcp6,tp_dst=22 actions=drop"},
	{"udp6,tp_src=53,ipv6_dst=2001:db8::/32 actions=controller:100,goto_table:2", "udp6,ipv6_dst=2001:db8::/32,tp_src=53 actions=CONTROLLER:100,goto_table:2"},
	{"sctp6,tp_src=9 actions=drop", "sctp6,tp_src=9 actions=drop"},
	{"dl_type=0x0800,nw_proto=6,tp_dst=22 actions=drop", "tcp,tp_dst=22 actions=drop"},
	{"tcp,dl_type=0x86dd,tp_dst=22 actions=drop", "tcp6,tp_dst=22 actions=drop"},
	{"ip,ip_proto=47,ip_dscp=46 actions=drop", "ip,nw_proto=47,nw_tos=184 actions=drop"},
	{"ip,nw_tos=5 actions=drop", "ip,nw_tos=4 actions=drop"},
	{"ip,nw_ecn=3 actions=drop", "ip,nw_ecn=3 actions=drop"},
	{"ipv6,nw_proto=6 actions=drop", "tcp6 actions=drop"},
	{"icmp,icmp_type=8,icmp_code=0,nw_tos=4,ip_ecn=1 actions=drop", "icmp,nw_tos=4,nw_ecn=1,icmp_type=8,icmp_code=0 actions=drop"},
	{"icmp,icmpv4_type=3,icmpv4_code=1 actions=drop", "icmp,icmp_type=3,icmp_code=1 actions=drop"},
	{"icmp6,icmp_type=128 actions=drop", "icmp6,icmp_type=128 actions=drop"},
	{"icmp6,icmpv6_type=135,nd_target=fe80::1,nd_sll=00:01:02:03:04:05 actions=drop", "icmp6,icmp_type=135,nd_target=fe80::1,nd_sll=00:01:02:03:04:05 actions=drop"},
	{"icmp6,icmp_type=136,nd_tll=00:01:02:03:04:05,icmp_code=0 actions=drop", "icmp6,icmp_type=136,icmp_code=0,nd_tll=00:01:02:03:04:05 actions=drop"},
	{"ipv6,ipv6_src=::1.2.3.4,ipv6_dst=fe80::/ffff:0:ffff::,ipv6_label=0x12345 actions=drop", "ipv6,ipv6_src=::1.2.3.4,ipv6_dst=fe80::/ffff:0:ffff::,ipv6_label=0x12345 actions=drop"},
	{"ipv6,ipv6_src=2001:db8::1/64,ipv6_label=0x5/0xf actions=drop", "ipv6,ipv6_src=2001:db8::/64,ipv6_label=0x00005/0x0000f actions=drop"},
	{"ip6,ipv6_dst=::ffff:10.0.0.1 actions=drop", "ipv6,ipv6_dst=::ffff:10.0.0.1 actions=drop"},
	{"arp,arp_op=1,arp_spa=10.0.0.1,arp_tha=00:00:00:00:00:01/ff:ff:ff:00:00:00 actions=flood", "arp,arp_spa=10.0.0.1,arp_op=1,arp_tha=00:00:00:00:00:00/ff:ff:ff:00:00:00 actions=FLOOD"},
	{"arp,nw_src=1.2.3.4,nw_proto=2,actions=drop", "arp,arp_spa=1.2.3.4,arp_op=2 actions=drop"},
	{"arp,arp_tpa=10.0.0.0/16,arp_sha=00:11:22:33:44:55 actions=all", "arp,arp_tpa=10.0.0.0/16,arp_sha=00:11:22:33:44:55 actions=ALL"},
	{"rarp,arp_sha=00:00:00:00:00:01,nw_dst=1.1.1.1 actions=drop", "rarp,arp_tpa=1.1.1.1,arp_sha=00:00:00:00:00:01 actions=drop"},
	{"dl_src=00:11:22:33:44:55,dl_dst=ff:ff:ff:ff:ff:ff actions=flood", "dl_src=00:11:22:33:44:55,dl_dst=ff:ff:ff:ff:ff:ff actions=FLOOD"},
	{"eth_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,eth_type=0x88cc actions=controller", "dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00,dl_type=0x88cc actions=CONTROLLER:65535"},
	{"dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop", "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop"},
	{"dl_vlan=5,dl_vlan_pcp=3,actions=all,in_port,local", "dl_vlan=5,dl_vlan_pcp=3 actions=ALL,IN_PORT,LOCAL"},
	{"dl_vlan=0 actions=drop", "dl_vlan=0 actions=drop"},
	{"dl_vlan=0xffff actions=drop", "vlan_tci=0x0000/0x1fff actions=drop"},
	{"vlan_vid=0x1005 actions=drop", "dl_vlan=5 actions=drop"},
	{"vlan_vid=5 actions=drop", "vlan_tci=0x0005/0x1fff actions=drop"},
	{"vlan_vid=0x1000/0x1000 actions=drop", "vlan_tci=0x1000/0x1000 actions=drop"},
	{"dl_vlan_pcp=7 actions=drop", "dl_vlan_pcp=7 actions=drop"},
	{"vlan_pcp=1,dl_vlan=100 actions=pop_vlan,output:1", "dl_vlan=100,dl_vlan_pcp=1 actions=pop_vlan,output:1"},
	{"vlan_tci=0 actions=drop", "vlan_tci=0x0000/0x1fff actions=drop"},
	{"vlan_tci=0x1005/0x1fff actions=drop", "dl_vlan=5 actions=drop"},
	{"vlan_tci=0xb005 actions=drop", "dl_vlan=5,dl_vlan_pcp=5 actions=drop"},
	{"vlan_tci=0x1000/0x1ff0 actions=drop", "vlan_tci=0x1000/0x1ff0 actions=drop"},
	{"mpls,mpls_label=5,mpls_tc=3,mpls_bos=1 actions=pop_mpls:0x0800", "mpls,mpls_label=5,mpls_tc=3,mpls_bos=1 actions=pop_mpls:0x0800"},
	{"mplsm,mpls_label=1048575 actions=drop", "mplsm,mpls_label=1048575 actions=drop"},
	{"metadata=0x10/0xff,tun_id=5,in_port=LOCAL actions=drop", "tun_id=0x5,metadata=0x10/0xff,in_port=LOCAL actions=drop"},
	{"metadata=0,tun_id=0x0/0xff,actions=drop", "tun_id=0/0xff,metadata=0 actions=drop"},
	{"tunnel_id=0x123456789 actions=drop", "tun_id=0x123456789 actions=drop"},
	{"in_port=LOCAL actions=controller(max_len=200)", "in_port=LOCAL actions=CONTROLLER:200"},
	{"in_port=CONTROLLER actions=IN_PORT", "in_port=CONTROLLER actions=IN_PORT"},
	{"in_port=65534 actions=drop", "in_port=LOCAL actions=drop"},
	{"in_port=4294967040 actions=drop", "in_port=4294967040 actions=drop"},
	{"cookie=0x5,table=1,idle_timeout=10,hard_timeout=20,send_flow_rem,check_overlap,reset_counts,priority=32768,dl_src=00:11:22:33:44:55,actions=controller", "cookie=0x5, table=1, idle_timeout=10, hard_timeout=20, send_flow_rem check_overlap reset_counts dl_src=00:11:22:33:44:55 actions=CONTROLLER:65535"},
	{"send_flow_rem no_packet_counts no_byte_counts actions=drop", "send_flow_rem no_packet_counts no_byte_counts actions=drop"},
	{"table=254,priority=0 actions=drop", "table=254, priority=0 actions=drop"},
	{"priority=65535,actions=", "priority=65535 actions=drop"},
	{"table=255,actions=drop", "actions=drop"},
	{"cookie=0xffffffffffffffff actions=drop", "cookie=0xffffffffffffffff, actions=drop"},
	{"actions=drop", "actions=drop"},
	{"actions=output:1,output:2,output:4294967039", "actions=output:1,output:2,output:4294967039"},
	{"actions=LOCAL,NORMAL,FLOOD,ALL,CONTROLLER,IN_PORT,TABLE", "actions=LOCAL,NORMAL,FLOOD,ALL,CONTROLLER:65535,IN_PORT,TABLE"},
	{"actions=controller:0", "actions=CONTROLLER:0"},
	{"actions=write_actions(output:3,group:1),write_metadata:0x1/0x3,goto_table:2", "actions=write_actions(output:3,group:1),write_metadata:0x1/0x3,goto_table:2"},
	{"actions=meter:2,output:1,clear_actions,write_actions(drop),write_metadata:0,goto_table:254", "actions=meter:2,output:1,clear_actions,write_metadata:0,goto_table:254"},
	{"actions=write_metadata:0x5", "actions=write_metadata:0x5"},
	{"actions=clear_actions,goto_table:1", "actions=clear_actions,goto_table:1"},
	{"actions=group:4,set_queue:3,dec_ttl,mod_nw_ttl:9", "actions=group:4,set_queue:3,dec_ttl,mod_nw_ttl:9"},
	{"actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:1", "actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:1"},
	{"actions=push_vlan:0x88a8,mod_vlan_vid:7,mod_vlan_pcp:3", "actions=push_vlan:0x88a8,set_field:4103->vlan_vid,set_field:3->vlan_pcp"},
	{"dl_vlan=10 actions=strip_vlan,output:2", "dl_vlan=10 actions=pop_vlan,output:2"},
	{"actions=mod_vlan_vid:7,output:1", "actions=push_vlan:0x8100,set_field:4103->vlan_vid,output:1"},
	{"dl_vlan=5,actions=mod_vlan_vid:7,output:1", "dl_vlan=5 actions=set_field:4103->vlan_vid,output:1"},
	{"actions=mod_vlan_pcp:3", "actions=push_vlan:0x8100,set_field:3->vlan_pcp"},
	{"dl_vlan_pcp=1 actions=mod_vlan_pcp:3,strip_vlan,mod_vlan_vid:9", "dl_vlan_pcp=1 actions=set_field:3->vlan_pcp,pop_vlan,push_vlan:0x8100,set_field:4105->vlan_vid"},
	{"vlan_vid=5 actions=mod_vlan_vid:6", "vlan_tci=0x0005/0x1fff actions=push_vlan:0x8100,set_field:4102->vlan_vid"},
	{"actions=push_mpls:0x8847,set_mpls_ttl:4,dec_mpls_ttl,pop_mpls:0x0800", "actions=push_mpls:0x8847,set_mpls_ttl(4),dec_mpls_ttl,pop_mpls:0x0800"},
	{"actions=mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02,output:1", "actions=set_field:00:00:00:00:00:01->eth_src,set_field:00:00:00:00:00:02->eth_dst,output:1"},
	{"ip actions=mod_nw_src:1.2.3.4,mod_nw_dst:5.6.7.8,mod_nw_tos:8,mod_nw_ecn:2", "ip actions=set_field:1.2.3.4->ip_src,set_field:5.6.7.8->ip_dst,set_field:2->ip_dscp,set_field:2->nw_ecn"},
	{"tcp actions=mod_tp_src:1,mod_tp_dst:80", "tcp actions=set_field:1->tcp_src,set_field:80->tcp_dst"},
	{"udp actions=mod_tp_dst:53,set_field:54->udp_src", "udp actions=set_field:53->udp_dst,set_field:54->udp_src"},
	{"ip actions=set_field:10.0.0.1->ip_dst,set_field:10.0.0.2->nw_src,set_field:3->ip_dscp", "ip actions=set_field:10.0.0.1->ip_dst,set_field:10.0.0.2->ip_src,set_field:3->ip_dscp"},
	{"actions=set_field:0x5->metadata,set_field:0x10->tun_id", "actions=set_field:0x5->metadata,set_field:0x10->tun_id"},
	{"actions=set_field:0->metadata", "actions=set_field:0->metadata"},
	{"ipv6 actions=set_field:::1->ipv6_src,set_field:0x12345->ipv6_label", "ipv6 actions=set_field:::1->ipv6_src,set_field:0x12345->ipv6_label"},
	{"arp actions=set_field:2->arp_op,set_field:1.1.1.1->arp_spa,set_field:00:00:00:00:00:09->arp_tha", "arp actions=set_field:2->arp_op,set_field:1.1.1.1->arp_spa,set_field:00:00:00:00:00:09->arp_tha"},
	{"mpls actions=set_field:5->mpls_label,set_field:1->mpls_tc", "mpls actions=set_field:5->mpls_label,set_field:1->mpls_tc"},
	{"actions=set_field:00:01:02:03:04:05->eth_dst,set_field:5->vlan_pcp", "actions=set_field:00:01:02:03:04:05->eth_dst,set_field:5->vlan_pcp"},
	// goko extensions: OXM names OVS lacks.
	{"ip,ipv4_src=1.2.3.4,ipv4_dst=5.6.7.0/24 actions=drop", "ip,nw_src=1.2.3.4,nw_dst=5.6.7.0/24 actions=drop"},
	{"in_port=1,in_phy_port=2 actions=drop", "in_port=1,in_phy_port=2 actions=drop"},
	{"dl_type=0x88e7,pbb_isid=0x123/0xfff actions=drop", "dl_type=0x88e7,pbb_isid=0x123/0xfff actions=drop"},
	{"ipv6,ipv6_exthdr=0x10/0x1f0,ipv6_flabel=7 actions=drop", "ipv6,ipv6_label=0x00007,ipv6_exthdr=0x10/0x1f0 actions=drop"},
	{"actions=copy_ttl_out,copy_ttl_in,push_pbb:0x88e7,pop_pbb", "actions=copy_ttl_out,copy_ttl_in,push_pbb:0x88e7,pop_pbb"},
	{"in_port=4294967040 actions=output:4294967039", "in_port=4294967040 actions=output:4294967039"},
	{"icmp,icmpv4_type=3,icmpv4_code=1 actions=drop", "icmp,icmp_type=3,icmp_code=1 actions=drop"},
	{"in_port=1,in_port=2,actions=drop", "in_port=2 actions=drop"},
	{"duration=5.1s,n_packets=3,n_bytes=1,idle_age=4,hard_age=5 actions=drop", "actions=drop"},
	// goko's filter programs.
	{"priority=10,in_port=1,filter_prog=1,actions=output:2", "priority=10,in_port=1,filter_prog=1 actions=output:2"},
	{"filter_prog=7,tcp,tp_dst=80 actions=send_maps(prog=7,map=counters),output:1", "tcp,tp_dst=80,filter_prog=7 actions=send_maps(prog=7,map=counters),output:1"},
	{"filter_prog=4294967295 actions=drop", "filter_prog=4294967295 actions=drop"},
	{"actions=send_maps:3", "actions=send_maps(prog=3)"},
	{"actions=send_maps(prog=0x10,map=a,map=b.c,map=flow_stats_v2)", "actions=send_maps(prog=16,map=a,map=b.c,map=flow_stats_v2)"},
	{"actions=write_actions(send_maps(prog=1),output:2),goto_table:1", "actions=write_actions(send_maps(prog=1),output:2),goto_table:1"},
	{"ip actions=set_nw_ttl:5,set_queue:1,output:in_port", "ip actions=mod_nw_ttl:5,set_queue:1,IN_PORT"},
	// Tenant networks: tunnel endpoints and connection tracking.
	{"tun_id=0x539,tun_src=192.0.2.2,ip actions=goto_table:10", "ip,tun_id=0x539,tun_src=192.0.2.2 actions=goto_table:10"},
	{"tun_dst=10.0.0.0/8,tun_src=1.2.3.4/255.0.255.0 actions=drop", "tun_src=1.0.3.0/255.0.255.0,tun_dst=10.0.0.0/8 actions=drop"},
	{"tun_id=5 actions=set_field:0x539->tun_id,set_field:192.0.2.2->tun_dst,output:10", "tun_id=0x5 actions=set_field:0x539->tun_id,set_field:192.0.2.2->tun_dst,output:10"},
	{"table=20,priority=100,ip,metadata=0x539/0x100ffffff,dl_dst=52:54:00:12:34:01,ct_reply=7 actions=output:1", "table=20, priority=100,ip,metadata=0x539/0x100ffffff,dl_dst=52:54:00:12:34:01,ct_reply=7 actions=output:1"},
	{"ip,filter_prog=2,ct_reply=1 actions=ct_commit(1),ct_commit:4294967295,goto_table:10", "ip,filter_prog=2,ct_reply=1 actions=ct_commit(1),ct_commit(4294967295),goto_table:10"},
	// The generic syntax (generic.go): fields and actions without a name,
	// and the generic spelling of named ones.
	{"oxm(0x1,31)=0xc0000202,oxm(0xffff,exp=0x00474b4f,16)=0x00000001 actions=experimenter(0x00474b4f,0x0100000000000001)", "tun_src=192.0.2.2,ct_reply=1 actions=ct_commit(1)"},
	{"oxm(0x1,40)=0x0a0000ff/0xffffff00,oxm(0x1,31)=0x0102,oxm(0xffff,exp=0x00002320,3)=0xab actions=experimenter(0x00002320,0x),experimenter(0x00474b4f,0x0100ff0000000001)", "oxm(0x1,40)=0x0a000000/0xffffff00,oxm(0x1,31)=0x0102,oxm(0xffff,exp=0x00002320,3)=0xab actions=experimenter(0x00002320,0x),experimenter(0x00474b4f,0x0100ff0000000001)"},
	{"actions=set_field:0x0a000001->oxm(0x1,40),set_field:0x0a000001->oxm(0x1,32),set_field:0x01->oxm(0xffff,exp=0x00002320,3)", "actions=set_field:0x0a000001->oxm(0x1,40),set_field:10.0.0.1->tun_dst,set_field:0x01->oxm(0xffff,exp=0x00002320,3)"},
}

// notInOVS lists the inputs ovs-ofctl rejects or reads differently: goko
// extensions, and action sets OVS checks against the match.
var notInOVS = map[string]bool{
	"priority=10,in_port=1,filter_prog=1,actions=output:2":                                                                true,
	"filter_prog=7,tcp,tp_dst=80 actions=send_maps(prog=7,map=counters),output:1":                                         true,
	"filter_prog=4294967295 actions=drop":                                                                                 true,
	"actions=send_maps:3":                                                                                                 true,
	"actions=send_maps(prog=0x10,map=a,map=b.c,map=flow_stats_v2)":                                                        true,
	"actions=write_actions(send_maps(prog=1),output:2),goto_table:1":                                                      true,
	"ip actions=set_nw_ttl:5,set_queue:1,output:in_port":                                                                  true,
	"ip,ipv4_src=1.2.3.4,ipv4_dst=5.6.7.0/24 actions=drop":                                                                true,
	"in_port=1,in_phy_port=2 actions=drop":                                                                                true,
	"dl_type=0x88e7,pbb_isid=0x123/0xfff actions=drop":                                                                    true,
	"ipv6,ipv6_exthdr=0x10/0x1f0,ipv6_flabel=7 actions=drop":                                                              true,
	"actions=copy_ttl_out,copy_ttl_in,push_pbb:0x88e7,pop_pbb":                                                            true,
	"in_port=4294967040 actions=output:4294967039":                                                                        true,
	"in_port=4294967040 actions=drop":                                                                                     true,
	"actions=output:1,output:2,output:4294967039":                                                                         true,
	"icmp,icmpv4_type=3,icmpv4_code=1 actions=drop":                                                                       true,
	"actions=group:4,set_queue:3,dec_ttl,mod_nw_ttl:9":                                                                    true,
	"actions=set_field:00:01:02:03:04:05->eth_dst,set_field:5->vlan_pcp":                                                  true,
	"table=20,priority=100,ip,metadata=0x539/0x100ffffff,dl_dst=52:54:00:12:34:01,ct_reply=7 actions=output:1":            true,
	"ip,filter_prog=2,ct_reply=1 actions=ct_commit(1),ct_commit:4294967295,goto_table:10":                                 true,
	"oxm(0x1,31)=0xc0000202,oxm(0xffff,exp=0x00474b4f,16)=0x00000001 actions=experimenter(0x00474b4f,0x0100000000000001)": true,
	"oxm(0x1,40)=0x0a0000ff/0xffffff00,oxm(0x1,31)=0x0102,oxm(0xffff,exp=0x00002320,3)=0xab actions=experimenter(0x00002320,0x),experimenter(0x00474b4f,0x0100ff0000000001)": true,
	"actions=set_field:0x0a000001->oxm(0x1,40),set_field:0x0a000001->oxm(0x1,32),set_field:0x01->oxm(0xffff,exp=0x00002320,3)":                                               true,
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTrips {
		fm, err := ParseFlow(tc.in)
		if err != nil {
			t.Errorf("ParseFlow(%q): %v", tc.in, err)
			continue
		}
		b, err := openflow.Marshal(7, fm)
		if err != nil {
			t.Errorf("%q: marshal: %v", tc.in, err)
			continue
		}
		_, m, err := openflow.Decode(b)
		if err != nil {
			t.Errorf("%q: decode: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(m, fm) {
			t.Errorf("%q: decoded FlowMod differs:\n got %+v\nwant %+v", tc.in, m, fm)
		}
		got := FormatFlowMod(m.(*openflow.FlowMod))
		if got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, got, tc.want)
		}
		fm2, err := ParseFlow(got)
		if err != nil {
			t.Errorf("re-parsing %q: %v", got, err)
		} else if !reflect.DeepEqual(fm, fm2) {
			t.Errorf("%q: re-parsed FlowMod differs:\n got %+v\nwant %+v", got, fm2, fm)
		}
	}
}

var parseErrors = []struct{ in, want string }{
	{"in_port=1,nw_dst=10.0.0/33,actions=drop", `nw_dst: prefix length 33 out of range`},
	{"tcp_dst=80 actions=drop", `tcp_dst needs ip_proto=6 (use "tcp,tp_dst=80")`},
	{"tp_dst=80 actions=drop", `tp_dst needs ip_proto=6, 17 or 132 (use "tcp,tp_dst=80", "udp,tp_dst=80" or "sctp,tp_dst=80")`},
	{"in_port=1", `must specify an action`},
	{"foo=1 actions=drop", `unknown keyword foo`},
	{"in_port=1,actions=output:2,drop", `actions: "drop" must not be accompanied by any other action or instruction`},
	{"actions=output:1,meter:2", `actions: invalid instruction ordering: meter must appear before apply_actions, for OpenFlow 1.1+ compatibility`},
	{"actions=goto_table:1,goto_table:2", `actions: instruction goto_table may be specified only once`},
	{"cookie=1/1 actions=drop", `flow additions cannot use a cookie mask`},
	{"ip,nw_src=1.2.3.4.5 actions=drop", `nw_src: "1.2.3.4.5" is not an IPv4 address`},
	{"dl_src=00:11:22:33:44 actions=drop", `dl_src: "00:11:22:33:44" is not an Ethernet address (want xx:xx:xx:xx:xx:xx)`},
	{"dl_vlan=4096 actions=drop", `dl_vlan: 4096 is not a VLAN id (0 to 4095, or 0xffff for no VLAN)`},
	{"ipv6,nw_src=1.2.3.4 actions=drop", `nw_src is an IPv4 field; use ipv6_src for IPv6`},
	{"nw_proto=6 actions=drop", `nw_proto needs dl_type=0x0800 or 0x86dd (use "ip,nw_proto=6" or "ipv6,nw_proto=6")`},
	{"tcp,tp_dst=0x50/0xfff0 actions=drop", `tp_dst: OpenFlow 1.3 does not allow a mask on tp_dst`},
	{"in_port=ANY actions=drop", `in_port: ANY is not a valid input port`},
	{"in_port=eth0 actions=drop", `in_port: unknown port "eth0" (use a port number, a reserved name such as LOCAL, or a name the switch knows)`},
	{"actions=frobnicate", `actions: unknown action or port "frobnicate"`},
	{"actions=output:ANY", `actions: output: ANY is not a valid output port`},
	{"actions=goto_table:255", `actions: goto_table: table 255 out of range (0 to 254)`},
	{"priority=70000 actions=drop", `priority: 70000 is out of range (at most 16 bits, max 65535)`},
	{"icmp6,nd_target=::1 actions=drop", `nd_target needs icmp6 with icmp_type=135 or 136 (use "icmp6,icmp_type=135,nd_target=::1")`},
	{"mpls_label=5 actions=drop", `mpls_label needs dl_type=0x8847 or 0x8848 (use "mpls,mpls_label=5")`},
	{"vlan_tci=0x1000/0x3000 actions=drop", `vlan_tci: OpenFlow 1.3 cannot match part of the priority (PCP) bits`},
	{"dl_vlan_pcp=3,dl_vlan=0xffff actions=drop", `dl_vlan_pcp needs a VLAN: it cannot be combined with dl_vlan=0xffff (use "dl_vlan=N,dl_vlan_pcp=3")`},
	{"ip actions=set_field:1.2.3.4/24->ip_dst", `actions: set_field: ip_dst: OpenFlow 1.3 cannot set part of a field (no masks in set_field)`},
	{"actions=set_field:1->frob", `actions: set_field: unknown field "frob"`},
	{"filter_prog=1/1 actions=drop", `filter_prog: OpenFlow 1.3 does not allow a mask on filter_prog`},
	{"filter_prog=x actions=drop", `filter_prog: "x" is not a number`},
	{"actions=send_maps(map=x)", `actions: send_maps: missing prog=ID`},
	{"actions=send_maps(prog=1,map=a b)", `actions: send_maps: unknown argument "b" (want prog=ID and map=NAME)`},
	{"actions=send_maps(prog=1,tbl=2)", `actions: send_maps: unknown argument "tbl" (want prog=ID and map=NAME)`},
	{"actions=set_field:1->filter_prog", `actions: set_field: filter_prog is a match field only; it cannot be set`},
	{"actions=set_field:1->ct_reply", `actions: set_field: ct_reply is a match field only; it cannot be set`},
	{"actions=set_field:0x00000001->oxm(0xffff,exp=0x00474b4f,16)", `actions: set_field: ct_reply is a match field only; it cannot be set`},
	{"ct_reply=1/1 actions=drop", `ct_reply: OpenFlow 1.3 does not allow a mask on ct_reply`},
	{"tun_src=1.2.3 actions=drop", `tun_src: "1.2.3" is not an IPv4 address`},
	{"oxm(0x8000,0)=0x00000001 actions=drop", `oxm(0x8000,0) is the OpenFlow 1.3 field in_port: write it by name`},
	{"oxm(0x8000,60)=0x0102 actions=drop", `oxm(0x8000,60): OpenFlow 1.3 defines no such field`},
	{"oxm(0xffff,3)=0x01 actions=drop", `oxm(0xffff,3): an experimenter field is oxm(0xffff,exp=ID,FIELD)`},
	{"oxm(0x1,200)=0x01 actions=drop", `oxm(0x1,200): field: 200 is out of range (at most 7 bits, max 127)`},
	{"oxm(0x1,40)=01 actions=drop", `oxm(0x1,40): "01": want 0x and hex bytes`},
	{"oxm(0x1,40)=0x0102/0xff actions=drop", `oxm(0x1,40): the mask must be as long as the value`},
	{"oxm(0x1,40)=0x01,oxm(0x1,40)=0x02 actions=drop", `oxm(0x1,40) given twice`},
	{"actions=set_field:0x01/0x01->oxm(0x1,40)", `actions: set_field: oxm(0x1,40): set_field takes no mask`},
	{"actions=experimenter(0x2320,0x0102)", `actions: experimenter: the body is 2 bytes; an action is a multiple of 8 bytes, so the body must be too`},
	{"actions=experimenter:5", `actions: experimenter: want experimenter(0xID,0xBODY)`},
	{"actions=ct_commit(x)", `actions: ct_commit: want ct_commit(ZONE): "x" is not a number`},
	{"actions=resubmit(,2)", `actions: resubmit: resubmit is an Open vSwitch extension (NXAST_RESUBMIT), not OpenFlow 1.3: use goto_table:N to continue in a later table (OpenFlow tables only go forward)`},
	{"actions=resubmit:3", `actions: resubmit: resubmit is an Open vSwitch extension (NXAST_RESUBMIT), not OpenFlow 1.3: use goto_table:N to continue in a later table (OpenFlow tables only go forward)`},
	{"actions=ct(commit)", `actions: ct: ct is an Open vSwitch extension (NXAST_CT), not OpenFlow 1.3: goko tracks connections with its own ct_commit(ZONE) action and ct_reply=ZONE match (docs/openflow-extensions.md)`},
	{"actions=note:01.02", `actions: note: note is an Open vSwitch extension (NXAST_NOTE), not OpenFlow 1.3: mark flows with a cookie instead (cookie=0x..., and cookie=0x.../-1 to select them)`},
	{"actions=enqueue:1:2", `actions: enqueue: enqueue is OpenFlow 1.0: in OpenFlow 1.3 write set_queue:QUEUE,output:PORT`},
	{"actions=learn(table=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])", `actions: learn: learn is an Open vSwitch extension (NXAST_LEARN), not OpenFlow 1.3: in OpenFlow a controller learns, from packet-ins (actions=CONTROLLER), and adds the flows; os-ken's simple_switch_13 is such a learning switch`},
	{"actions=apply_actions(output:1)", `actions: apply_actions is the default instruction`},
	{"actions=controller(reason=no_match)", `actions: controller: only max_len is supported (reason needs Nicira extensions)`},
	{"udp,tcp_dst=80 actions=drop", `tcp_dst needs ip_proto=6 (use "tcp,tp_dst=80")`},
	{"icmp,icmpv6_type=1 actions=drop", `icmpv6_type needs ip_proto=58 (use "icmp6,icmp_type=1")`},
	{"actions=write_actions(goto_table:1)", `actions: write_actions: goto_table is an instruction, not an action`},
	{"in_port=1,actions=mod_tp_dst:80", `actions: mod_tp_dst: needs a flow that matches ip_proto=6, 17 or 132 (e.g. "tcp,...")`},
	{"table=256 actions=drop", `table: 256 is out of range (at most 8 bits, max 255)`},
	{"arp_op=1 actions=drop", `arp_op needs dl_type=0x0806 (use "arp,arp_op=1")`},
	{"ip,nw_src=10.0.0.1/40 actions=drop", `nw_src: prefix length 40 out of range`},
	{"ipv6,ipv6_src=::1/129 actions=drop", `ipv6_src: prefix length 129 out of range`},
	{"icmp,icmp_type=300 actions=drop", `icmp_type: 300 is out of range (at most 8 bits, max 255)`},
	{"dl_type=0x800/0xff00 actions=drop", `dl_type: OpenFlow 1.3 does not allow a mask on dl_type`},
	{"nw_dst=1.2.3.4 actions=drop", `nw_dst needs dl_type=0x0800 or 0x0806 (use "ip,nw_dst=1.2.3.4" or "arp,nw_dst=1.2.3.4")`},
	{"ip_dst=1.2.3.4 actions=drop", `ip_dst needs dl_type=0x0800 (use "ip,ip_dst=1.2.3.4")`},
	{"in_port actions=drop", `field in_port missing value`},
	{"tcp=1 actions=drop", `tcp: a protocol keyword takes no value`},
	{"actions=output:", `actions: output: missing port`},
	{"dl_vlan_pcp=8 actions=drop", `dl_vlan_pcp: 8 is out of range (at most 3 bits, max 7)`},
	{"in_phy_port=1 actions=drop", `in_phy_port needs in_port (use "in_port=1,in_phy_port=1")`},
	{"actions=set_field:5->vlan_tci", `actions: set_field: vlan_tci cannot be set in OpenFlow 1.3; set vlan_vid and vlan_pcp`},
	{"actions=push_vlan:0x800", `actions: push_vlan: ethertype 0x800 is not a VLAN ethertype (0x8100 or 0x88a8)`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrors {
		fm, err := ParseFlow(tc.in)
		if err == nil {
			t.Errorf("ParseFlow(%q) = %s, want error %q", tc.in, FormatFlowMod(fm), tc.want)
			continue
		}
		want := `bad flow "` + tc.in + `": ` + tc.want
		if err.Error() != want {
			t.Errorf("ParseFlow(%q):\n got %v\nwant %s", tc.in, err, want)
		}
		var fe *Error
		if !errors.As(err, &fe) || fe.Flow != tc.in {
			t.Errorf("ParseFlow(%q): error %T is not an *Error naming the flow", tc.in, err)
		}
	}
}

func TestUnknownPortNames(t *testing.T) {
	for _, s := range []string{"in_port=eth0 actions=drop", "actions=output:eth0", "actions=eth0"} {
		_, err := ParseFlow(s)
		var upe *UnknownPortError
		if !errors.As(err, &upe) || upe.Name != "eth0" {
			t.Errorf("ParseFlow(%q) = %v, want an *UnknownPortError for eth0", s, err)
		}
		fm, err := ParseFlowMod(s, openflow.FlowAdd, &Options{PortNames: map[string]uint32{"eth0": 7}})
		if err != nil {
			t.Errorf("with port names, ParseFlowMod(%q): %v", s, err)
			continue
		}
		if got := FormatFlowMod(fm); !strings.Contains(got, "7") {
			t.Errorf("ParseFlowMod(%q) = %s, want port 7", s, got)
		}
	}
	fm, err := ParseFlowMod(`in_port="my-port" actions=drop`, openflow.FlowAdd, &Options{PortNames: map[string]uint32{"my-port": 3}})
	if err != nil || FormatFlowMod(fm) != "in_port=3 actions=drop" {
		t.Errorf("quoted port name: %v %v", fm, err)
	}
}

func TestParseFlowModCommands(t *testing.T) {
	inPort1 := openflow.NewMatch(openflow.OXMInPortVal(1))
	base := openflow.FlowMod{Priority: openflow.DefaultPriority, BufferID: openflow.NoBuffer,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny}
	with := func(f func(*openflow.FlowMod)) *openflow.FlowMod {
		fm := base
		f(&fm)
		return &fm
	}
	tests := []struct {
		in   string
		cmd  openflow.FlowModCommand
		want *openflow.FlowMod
	}{
		{"in_port=1", openflow.FlowDelete, with(func(f *openflow.FlowMod) {
			f.Command, f.TableID, f.Match = openflow.FlowDelete, openflow.TableAll, inPort1
		})},
		{"", openflow.FlowDelete, with(func(f *openflow.FlowMod) {
			f.Command, f.TableID = openflow.FlowDelete, openflow.TableAll
		})},
		{"table=3,cookie=0x13/0xf0,out_port=2,out_group=7,in_port=1", openflow.FlowDelete, with(func(f *openflow.FlowMod) {
			f.Command, f.TableID, f.Match = openflow.FlowDelete, 3, inPort1
			f.Cookie, f.CookieMask, f.OutPort, f.OutGroup = 0x10, 0xf0, 2, 7
		})},
		{"priority=5,in_port=1", openflow.FlowDeleteStrict, with(func(f *openflow.FlowMod) {
			f.Command, f.TableID, f.Match, f.Priority = openflow.FlowDeleteStrict, openflow.TableAll, inPort1, 5
		})},
		{"in_port=1 actions=output:3", openflow.FlowModify, with(func(f *openflow.FlowMod) {
			f.Command, f.Match = openflow.FlowModify, inPort1
			f.Instructions = []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{openflow.ActionOutput{Port: 3}}}}
		})},
		{"cookie=0x5/0xff,priority=7,in_port=1,idle_timeout=9 actions=drop", openflow.FlowModifyStrict, with(func(f *openflow.FlowMod) {
			f.Command, f.Match, f.Priority, f.IdleTimeout = openflow.FlowModifyStrict, inPort1, 7, 9
			f.Cookie, f.CookieMask = 5, 0xff
		})},
	}
	for _, tc := range tests {
		got, err := ParseFlowMod(tc.in, tc.cmd, nil)
		if err != nil {
			t.Errorf("ParseFlowMod(%q, %d): %v", tc.in, tc.cmd, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFlowMod(%q, %d):\n got %+v\nwant %+v", tc.in, tc.cmd, got, tc.want)
		}
		again, err := ParseFlowMod(FormatFlowMod(got), tc.cmd, nil)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("FormatFlowMod(%q) = %q does not parse back: %v", tc.in, FormatFlowMod(got), err)
		}
	}

	bad := []struct {
		in   string
		cmd  openflow.FlowModCommand
		want string
	}{
		{"priority=5,in_port=1", openflow.FlowDelete, "priority is only meaningful with --strict"},
		{"cookie=5", openflow.FlowDelete, "cannot set cookie"},
		{"in_port=1 actions=drop", openflow.FlowDelete, "unknown keyword actions"},
		{"send_flow_rem", openflow.FlowDelete, "only valid when adding or modifying"},
		{"idle_timeout=5", openflow.FlowDelete, "unknown keyword idle_timeout"},
		{"in_port=1", openflow.FlowModify, "must specify an action"},
	}
	for _, tc := range bad {
		_, err := ParseFlowMod(tc.in, tc.cmd, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFlowMod(%q, %d) = %v, want error containing %q", tc.in, tc.cmd, err, tc.want)
		}
	}
}

func TestParseFlowStatsRequest(t *testing.T) {
	r, err := ParseFlowStatsRequest("", nil)
	want := &openflow.FlowStatsRequest{TableID: openflow.TableAll, OutPort: openflow.PortAny, OutGroup: openflow.GroupAny}
	if err != nil || !reflect.DeepEqual(r, want) {
		t.Errorf("empty filter = %+v, %v; want %+v", r, err, want)
	}
	r, err = ParseFlowStatsRequest("table=2,tcp,tp_dst=80,cookie=0x1/0xffffffffffffffff,out_port=LOCAL", nil)
	want = &openflow.FlowStatsRequest{TableID: 2, OutPort: openflow.PortLocal, OutGroup: openflow.GroupAny,
		Cookie: 1, CookieMask: ^uint64(0), Match: openflow.NewMatch(openflow.OXMEthTypeVal(0x0800),
			openflow.OXMIPProtoVal(6), openflow.OXMPortVal(openflow.OXMTCPDst, 80))}
	if err != nil || !reflect.DeepEqual(r, want) {
		t.Errorf("filter = %+v, %v; want %+v", r, err, want)
	}
	for _, s := range []string{"priority=1", "cookie=1", "in_port=1 actions=drop", "hard_timeout=1"} {
		if _, err := ParseFlowStatsRequest(s, nil); err == nil {
			t.Errorf("ParseFlowStatsRequest(%q) succeeded, want an error", s)
		}
	}
}

func TestParseMatch(t *testing.T) {
	m, err := ParseMatch("udp,nw_dst=10.0.0.1,tp_dst=53", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatMatch(m, openflow.DefaultPriority); got != "udp,nw_dst=10.0.0.1,tp_dst=53" {
		t.Errorf("FormatMatch = %q", got)
	}
	if _, err := ParseMatch("udp,actions=drop", nil); err == nil {
		t.Error("ParseMatch accepted actions")
	}
}

func TestTokenizer(t *testing.T) {
	tests := []struct {
		in   string
		want []item
	}{
		{"a=1,b:2 c", []item{{"a", "1", '='}, {"b", "2", ':'}, {"c", "", 0}}},
		{"  ,, a=1 ,", []item{{"a", "1", '='}}},
		{"write_actions(output:1,output:2),goto_table:1", []item{{"write_actions", "output:1,output:2", '('}, {"goto_table", "1", ':'}}},
		{"controller(max_len=5)", []item{{"controller", "max_len=5", '('}}},
		{"x=f(a,b),y", []item{{"x", "f(a,b)", '='}, {"y", "", 0}}},
		{"x=(unbalanced", []item{{"x", "(unbalanced", '='}}},
		{"a(b)->c,d", []item{{"a", "b)->c", '('}, {"d", "", 0}}},
		{"", nil},
	}
	for _, tc := range tests {
		if got := items(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("items(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestFormatIPv6(t *testing.T) {
	for _, s := range []string{"::", "::1", "1::", "2001:db8::1", "::1.2.3.4", "::ffff:1.2.3.4",
		"1:0:0:1::", "1:0:1:0:1:0:1:0", "1::1:0:0:1", "fe80::1:2", "0:0:1::"} {
		a, _, err := parseAddrMasked(s, 128)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatIPv6(a); got != s {
			t.Errorf("formatIPv6(%s) = %s", s, got)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		sec, nsec uint32
		want      string
	}{{0, 0, "0s"}, {1, 234000000, "1.234s"}, {5, 1, "5.000000001s"}, {2, 500, "2.0000005s"}, {7, 1000000, "7.001s"}} {
		if got := FormatDuration(tc.sec, tc.nsec); got != tc.want {
			t.Errorf("FormatDuration(%d, %d) = %s, want %s", tc.sec, tc.nsec, got, tc.want)
		}
	}
}

func TestFormatFlowStats(t *testing.T) {
	fs := &openflow.FlowStats{TableID: 0, DurationSec: 1, DurationNsec: 234000000, Priority: 10,
		PacketCount: 5, ByteCount: 490, Match: openflow.NewMatch(openflow.OXMInPortVal(1)),
		Instructions: []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{openflow.ActionOutput{Port: 2}}}}}
	want := "cookie=0x0, duration=1.234s, table=0, n_packets=5, n_bytes=490, priority=10,in_port=1 actions=output:2"
	if got := FormatFlowStats(fs, true); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, want := FormatFlowStats(fs, false), "priority=10,in_port=1 actions=output:2"; got != want {
		t.Errorf("no stats: got %s, want %s", got, want)
	}
	fs = &openflow.FlowStats{TableID: 3, Priority: openflow.DefaultPriority, Cookie: 0xa, IdleTimeout: 5,
		HardTimeout: 6, Flags: openflow.FlowFlagSendFlowRem | 0x100, PacketCount: ^uint64(0), ByteCount: ^uint64(0)}
	want = "cookie=0xa, duration=0s, table=3, n_packets=?, n_bytes=?, idle_timeout=5, hard_timeout=6, send_flow_rem flags=0x100 actions=drop"
	if got := FormatFlowStats(fs, true); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Matches that no parser builds (they break prerequisites, or use
// experimenter fields) still print every field.
func TestFormatMatchOddities(t *testing.T) {
	tests := []struct {
		m    openflow.Match
		want string
	}{
		{openflow.NewMatch(openflow.OXMPortVal(openflow.OXMTCPDst, 80)), "tcp_dst=0x0050"},
		{openflow.NewMatch(openflow.OXMEthTypeVal(0x0800), openflow.OXMIPProtoVal(17), openflow.OXMPortVal(openflow.OXMTCPDst, 80)),
			"udp,tcp_dst=0x0050"},
		{openflow.NewMatch(openflow.NewExperimenterOXM(0x00abcdef, 3, []byte{1, 2}, nil)), "oxm(0xffff,exp=0x00abcdef,3)=0x0102"},
		{openflow.NewMatch(openflow.OXMUintMasked(openflow.OXMVlanVID, 0, 0)), ""},
		{openflow.NewMatch(openflow.OXMEthTypeVal(0x0806), openflow.OXMUint(openflow.OXMARPOp, 2)), "arp,arp_op=2"},
	}
	for _, tc := range tests {
		if got := FormatMatch(tc.m, openflow.DefaultPriority); got != tc.want {
			t.Errorf("FormatMatch(%v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestFormatInstructionOrder(t *testing.T) {
	insts := []openflow.Instruction{
		openflow.InstGotoTable{TableID: 3},
		openflow.InstWriteMetadata{Metadata: 0, Mask: ^uint64(0)},
		openflow.InstWriteActions{},
		openflow.InstClearActions{},
		openflow.InstApplyActions{},
		openflow.InstMeter{MeterID: 5},
	}
	want := "meter:5,clear_actions,write_actions(drop),write_metadata:0,goto_table:3"
	if got := FormatInstructions(insts); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
