package datapath

import (
	"reflect"
	"testing"
	"unsafe"
)

func TestFlowKeyHasNoPadding(t *testing.T) {
	var sum uintptr
	typ := reflect.TypeOf(FlowKey{})
	for i := 0; i < typ.NumField(); i++ {
		sum += typ.Field(i).Type.Size()
	}
	if sum != unsafe.Sizeof(FlowKey{}) {
		t.Fatalf("FlowKey has %d bytes of implicit padding", unsafe.Sizeof(FlowKey{})-sum)
	}
	if unsafe.Sizeof(FlowKey{})%8 != 0 {
		t.Fatalf("FlowKey size %d is not a multiple of 8", unsafe.Sizeof(FlowKey{}))
	}
}

func TestFlowKeyMask(t *testing.T) {
	a := FlowKey{InPort: 3, NwSrc: 0x0a000001, TpDst: 80}
	m := FlowKey{InPort: 0xffffffff, NwSrc: 0xffffff00}
	var got FlowKey
	got.And(&a, &m)
	want := FlowKey{InPort: 3, NwSrc: 0x0a000000}
	if got != want {
		t.Fatalf("And = %+v, want %+v", got, want)
	}
	if a.Hash() == got.Hash() {
		t.Fatalf("distinct keys hash equal")
	}
}

// TestHashCoversTheKey checks that the hash tells apart keys that differ
// in one field, whichever words the field lives in: IPv4 keys skip the
// words after the transport ports, which must then be all zero.
func TestHashCoversTheKey(t *testing.T) {
	base4 := FlowKey{InPort: 1, EthType: EthTypeIPv4, NwSrc: 0x0a000001, NwDst: 0x0a000002, NwProto: 17, TpSrc: 1000, TpDst: 53}
	base6 := FlowKey{InPort: 1, EthType: EthTypeIPv6, NwProto: 17, TpSrc: 1000, TpDst: 53}
	arp := FlowKey{InPort: 1, EthType: EthTypeARP, NwSrc: 0x0a000001}
	for _, tc := range []struct {
		name string
		base FlowKey
		edit func(*FlowKey)
	}{
		{"ipv4 tp_dst", base4, func(k *FlowKey) { k.TpDst++ }},
		{"ipv4 nw_dst", base4, func(k *FlowKey) { k.NwDst++ }},
		{"ipv4 tun_id", base4, func(k *FlowKey) { k.TunID++ }},
		{"ipv4 eth_src", base4, func(k *FlowKey) { k.EthSrc[5]++ }},
		{"ipv6 src", base6, func(k *FlowKey) { k.IPv6Src[15]++ }},
		{"ipv6 dst", base6, func(k *FlowKey) { k.IPv6Dst[15]++ }},
		{"ipv6 label", base6, func(k *FlowKey) { k.IPv6Label++ }},
		{"nd target", base6, func(k *FlowKey) { k.NDTarget[15]++ }},
		{"arp sha", arp, func(k *FlowKey) { k.ArpSHA[5]++ }},
		{"arp tha", arp, func(k *FlowKey) { k.ArpTHA[5]++ }},
		{"pbb isid", FlowKey{EthType: EthTypePBB}, func(k *FlowKey) { k.PBBISID++ }},
	} {
		k := tc.base
		tc.edit(&k)
		if k.Hash() == tc.base.Hash() {
			t.Errorf("%s: keys differing in it hash equal", tc.name)
		}
	}
	// An IPv4 key as the parser fills it has nothing past word 7.
	var k FlowKey
	Parse(udpFrames(1)[0], 1, &k)
	for i, w := range k.Words()[8:] {
		if w != 0 {
			t.Fatalf("IPv4 key word %d is %#x: Hash would skip it", 8+i, w)
		}
	}
}
