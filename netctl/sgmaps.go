package netctl

// A NIC's security groups as the maps of its instance of the sg program
// (netctl/sgprog, whose src/sg.c states the design).
//
// The remote side: for each direction and family, the set of remote
// prefixes the NIC's rules name (CIDRs, and the member addresses of remote
// groups), each with the shapes (protocol, ports, ICMP type and code) of
// the rules that name it. Because the trie answers with the longest
// prefix only, an entry's class is the union of its own shapes and those
// of every shorter prefix of the set that covers it. A class is numbered
// by a hash of its contents, so an unrelated change never renumbers it
// (which would rewrite every entry that uses it); a collision within one
// NIC moves to the next free number, in a fixed order.

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"sort"
	"strings"

	"github.com/goko-net/goko/netctl/sgprog"
)

// progBase numbers the NICs' sg programs: the program of a NIC in zone Z
// is progBase + Z, away from the small numbers people give programs by
// hand.
const progBase uint32 = 0x5347_0000 // "SG"

// ProgID is the filter program number of NIC n's security groups.
func ProgID(n *NIC) uint32 { return progBase + n.Zone }

// isSGProg reports whether program id is one of netctl's.
func isSGProg(id uint32) bool { return id >= progBase && id < progBase+0x1_0000 }

// Maps is the contents of a program's maps: map name, then key, then
// value (keys and values as strings of bytes, so the sets compare).
type Maps map[string]map[string]string

// Entries counts the entries of every map.
func (m Maps) Entries() int {
	n := 0
	for _, e := range m {
		n += len(e)
	}
	return n
}

func (ix *index) shape(r Rule) sgprog.Shape {
	typ, code := r.icmp()
	return sgprog.Shape{Proto: r.protoNumber(), PortLo: r.PortMin, PortHi: r.PortMax, ICMPType: typ, ICMPCode: code}
}

// progMaps returns the map contents of NIC n's program.
func (ix *index) progMaps(n *NIC) Maps {
	maps := Maps{sgprog.MapNIC: {}, sgprog.MapRemote4: {}, sgprog.MapRemote6: {}, sgprog.MapShapes: {}}
	maps[sgprog.MapNIC][string(sgprog.NICKey())] = string(sgprog.NICValue(mac(n.MAC)))

	type remote struct {
		dir byte
		p   netip.Prefix
	}
	direct := map[remote]map[sgprog.Shape]bool{}
	for _, r := range ix.st.rules(n) {
		dir := byte(sgprog.DirIngress)
		if r.Egress() {
			dir = sgprog.DirEgress
		}
		s := ix.shape(r)
		for _, p := range ix.remotes(r) {
			k := remote{dir, p}
			if direct[k] == nil {
				direct[k] = map[sgprog.Shape]bool{}
			}
			direct[k][s] = true
		}
	}
	// Each prefix's class: its shapes and those of the prefixes covering it.
	keys := make([]remote, 0, len(direct))
	for k := range direct {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].dir != keys[j].dir {
			return keys[i].dir < keys[j].dir
		}
		if keys[i].p.Bits() != keys[j].p.Bits() {
			return keys[i].p.Bits() < keys[j].p.Bits()
		}
		return keys[i].p.Addr().Less(keys[j].p.Addr())
	})
	// The prefix lengths present per direction and family: a prefix's
	// covering prefixes are found by masking it to each shorter length
	// present, not by comparing it with every other prefix.
	type family struct {
		dir byte
		v4  bool
	}
	lens := map[family][]int{}
	seenLen := map[family]map[int]bool{}
	for _, k := range keys {
		f := family{k.dir, k.p.Addr().Is4()}
		if seenLen[f] == nil {
			seenLen[f] = map[int]bool{}
		}
		if !seenLen[f][k.p.Bits()] {
			seenLen[f][k.p.Bits()] = true
			lens[f] = append(lens[f], k.p.Bits()) // ascending: keys are sorted by length
		}
	}
	classOf := map[remote][]sgprog.Shape{}
	for _, k := range keys {
		set := map[sgprog.Shape]bool{}
		for _, l := range lens[family{k.dir, k.p.Addr().Is4()}] {
			if l > k.p.Bits() {
				break
			}
			cover := netip.PrefixFrom(k.p.Addr(), l).Masked()
			for s := range direct[remote{k.dir, cover}] {
				set[s] = true
			}
		}
		shapes := make([]sgprog.Shape, 0, len(set))
		for s := range set {
			shapes = append(shapes, s)
		}
		sort.Slice(shapes, func(i, j int) bool { return shapeLess(shapes[i], shapes[j]) })
		classOf[k] = shapes
	}
	// Number the classes by content.
	byContent := map[string][]sgprog.Shape{}
	for _, shapes := range classOf {
		byContent[classString(shapes)] = shapes
	}
	contents := make([]string, 0, len(byContent))
	for c := range byContent {
		contents = append(contents, c)
	}
	sort.Strings(contents)
	number := map[string]uint32{}
	used := map[uint32]bool{}
	for _, c := range contents {
		h := fnv.New32a()
		h.Write([]byte(c))
		id := h.Sum32()
		for used[id] {
			id++
		}
		used[id] = true
		number[c] = id
		for _, s := range byContent[c] {
			for _, k := range sgprog.ShapeKeys(id, s) {
				maps[sgprog.MapShapes][string(k)] = string(sgprog.ShapeValue())
			}
		}
	}
	for _, k := range keys {
		maps[sgprog.RemoteMap(k.p)][string(sgprog.RemoteKey(k.dir, k.p))] = string(sgprog.ClassValue(number[classString(classOf[k])]))
	}
	return maps
}

func shapeLess(a, b sgprog.Shape) bool {
	if a.Proto != b.Proto {
		return a.Proto < b.Proto
	}
	if a.PortLo != b.PortLo {
		return a.PortLo < b.PortLo
	}
	if a.PortHi != b.PortHi {
		return a.PortHi < b.PortHi
	}
	if a.ICMPType != b.ICMPType {
		return a.ICMPType < b.ICMPType
	}
	return a.ICMPCode < b.ICMPCode
}

func shapeString(s sgprog.Shape) string {
	return fmt.Sprintf("%d/%d-%d/%d/%d", s.Proto, s.PortLo, s.PortHi, s.ICMPType, s.ICMPCode)
}

func classString(shapes []sgprog.Shape) string {
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		parts[i] = shapeString(s)
	}
	return strings.Join(parts, ",")
}

// Programs returns the sg programs switch name must run, with their maps:
// one per local NIC when the switch runs its groups as programs, none
// otherwise.
func (st *State) Programs(name string) map[uint32]Maps {
	return st.index().programs(name)
}

func (ix *index) programs(name string) map[uint32]Maps {
	sw := ix.st.Switches[name]
	if sw == nil || sw.SGMode != SGModeProgram {
		return nil
	}
	out := map[uint32]Maps{}
	for _, n := range ix.bySwitch[name] {
		out[ProgID(n)] = ix.progMaps(n)
	}
	return out
}
