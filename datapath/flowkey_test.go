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
