package datapath

import "sync/atomic"

// ActionKind says what a datapath action does.
type ActionKind uint8

// Datapath actions. They are flat and pre-resolved: the OpenFlow layer has
// already expanded flood, all and in_port into plain outputs.
const (
	ActOutput    ActionKind = iota + 1 // send to Port
	ActUserspace                       // hand a copy to the Upcaller (packet-in)
)

// Action is one step of a megaflow's action list.
type Action struct {
	Kind ActionKind
	Port uint32     // ActOutput: datapath port number
	User *Userspace // ActUserspace: passed back to the Upcaller untouched
}

// Userspace carries the OpenFlow layer's context for a packet sent to user
// space; the datapath passes it back untouched.
type Userspace struct {
	Arg any
}

// FlowStats are counters shared between a rule of the OpenFlow layer and
// every megaflow that hit it.
type FlowStats struct {
	Packets atomic.Uint64
	Bytes   atomic.Uint64
	Used    atomic.Int64 // unix nanoseconds of the last hit, 0 if never
}

// Megaflow is a cache entry: every packet whose key equals Key in the bits
// set in Mask gets Actions, and counts towards Stats.
type Megaflow struct {
	Key, Mask FlowKey
	Actions   []Action
	Stats     []*FlowStats
}

// Translator turns a packet that missed the caches into a megaflow. It is
// implemented by the OpenFlow layer and called from datapath threads, so it
// must be safe for concurrent use. key is the packet's full flow key; the
// translator fills mf.Mask with the bits its decision depended on, and
// mf.Actions and mf.Stats. mf.Key is set by the datapath.
type Translator interface {
	Translate(pkt []byte, key *FlowKey, mf *Megaflow) error
}

// Upcaller receives packets sent to user space by ActUserspace. pkt is only
// valid during the call: implementations copy what they keep, and must not
// block.
type Upcaller interface {
	Upcall(pkt []byte, key *FlowKey, u *Userspace)
}
