package ofproto

// Groups.
//
// A group is stored exactly as the controller configured it (type and
// buckets as received), so GROUP_DESC returns what was sent. Nothing is
// precomputed: translation resolves a group each time a packet misses the
// caches, under Bridge.mu held for reading, and every group change or port
// liveness change invalidates the datapath. Invariants kept at group-mod
// time, under Bridge.modMu (and Bridge.mu held for writing while the group
// map changes):
//   - every group action (in flows and in buckets) names an existing group;
//   - the group graph has no cycle (OFPGMFC_LOOP);
//   - every watched group exists;
//   - a group another group forwards to or watches cannot be deleted
//     (OFPGMFC_CHAINED_GROUP); deleting a group deletes the flows that use
//     it, with flow-removed reason GROUP_DELETE.
//
// Liveness (fast-failover, and select buckets that watch something): a
// port is live when it exists, its link is up and it is not administratively
// down; a group is live when one of its buckets is live; a bucket is live
// when what it watches is. Counters: group and bucket FlowStats are shared
// with the datapath (see xlate.go).

import (
	"slices"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// maxGroups bounds the number of groups of each type.
const maxGroups = 65536

type group struct {
	id          uint32
	typ         openflow.GroupType
	buckets     []openflow.Bucket // as configured
	stats       *datapath.FlowStats
	bucketStats []*datapath.FlowStats
	created     time.Time
}

// refs lists the groups g's buckets forward to.
func (g *group) refs() []uint32 {
	var out []uint32
	for i := range g.buckets {
		for _, a := range g.buckets[i].Actions {
			if ga, ok := a.(openflow.ActionGroup); ok {
				out = append(out, ga.GroupID)
			}
		}
	}
	return out
}

// GroupMod applies a group-mod.
func (b *Bridge) GroupMod(gm *openflow.GroupMod) error {
	var removed []*rule
	err := b.update(func(tx *txn) error {
		var err error
		switch gm.Command {
		case openflow.GroupAdd, openflow.GroupModify:
			err = b.addModifyGroup(tx, gm)
		case openflow.GroupDelete:
			removed, err = b.deleteGroup(tx, gm.GroupID)
		default:
			err = openflow.Errorf(openflow.GMFCBadCommand, "unknown group-mod command %d", gm.Command)
		}
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, r := range removed {
		b.sendFlowRemoved(r, openflow.FlowRemovedGroupDelete, now)
	}
	return nil
}

func (b *Bridge) addModifyGroup(tx *txn, gm *openflow.GroupMod) error {
	if gm.GroupID > openflow.GroupMax {
		return openflow.Errorf(openflow.GMFCInvalidGroup, "group id %#x is reserved", gm.GroupID)
	}
	switch gm.GroupType {
	case openflow.GroupTypeAll, openflow.GroupTypeSelect, openflow.GroupTypeFF:
	case openflow.GroupTypeIndirect:
		if len(gm.Buckets) != 1 {
			return openflow.Errorf(openflow.GMFCInvalidGroup, "an indirect group has exactly one bucket, not %d", len(gm.Buckets))
		}
	default:
		return openflow.Errorf(openflow.GMFCBadType, "unknown group type %d", gm.GroupType)
	}
	old := b.groups[gm.GroupID]
	if gm.Command == openflow.GroupAdd && old != nil {
		return openflow.Errorf(openflow.GMFCGroupExists, "group %d exists", gm.GroupID)
	}
	if gm.Command == openflow.GroupModify && old == nil {
		return openflow.Errorf(openflow.GMFCUnknownGroup, "group %d does not exist", gm.GroupID)
	}
	if old == nil && len(b.groups) >= maxGroups {
		return openflow.Errorf(openflow.GMFCOutOfGroups, "at most %d groups", maxGroups)
	}
	for i := range gm.Buckets {
		bk := &gm.Buckets[i]
		if bk.WatchPort != openflow.PortAny && (bk.WatchPort == 0 || bk.WatchPort > openflow.PortMax) {
			return openflow.Errorf(openflow.GMFCBadWatch, "bucket %d watches port %#x, which cannot be watched", i, bk.WatchPort)
		}
		if bk.WatchGroup != openflow.GroupAny && bk.WatchGroup > openflow.GroupMax {
			return openflow.Errorf(openflow.GMFCBadWatch, "bucket %d watches reserved group %#x", i, bk.WatchGroup)
		}
		if gm.GroupType == openflow.GroupTypeFF && bk.WatchPort == openflow.PortAny && bk.WatchGroup == openflow.GroupAny {
			return openflow.Errorf(openflow.GMFCBadWatch, "fast-failover bucket %d watches neither a port nor a group", i)
		}
		if bk.Weight != 0 && gm.GroupType != openflow.GroupTypeSelect {
			// "includes fields such as weight that are undefined for the
			// specified group type" (OpenFlow 1.3.5 section 6.5).
			return openflow.Errorf(openflow.GMFCInvalidGroup, "bucket %d has weight %d, which only select groups have", i, bk.Weight)
		}
		watches := bk.WatchPort != openflow.PortAny || bk.WatchGroup != openflow.GroupAny
		if watches && (gm.GroupType == openflow.GroupTypeAll || gm.GroupType == openflow.GroupTypeIndirect) {
			// All and indirect groups run every bucket: liveness would
			// be ignored, so it is refused.
			return openflow.Errorf(openflow.GMFCWatchUnsupported, "bucket %d watches a port or group, which %v groups ignore", i, gm.GroupType)
		}
		if bk.WatchGroup == gm.GroupID {
			return openflow.Errorf(openflow.GMFCLoop, "bucket %d watches its own group", i)
		}
		if bk.WatchGroup != openflow.GroupAny && b.groups[bk.WatchGroup] == nil {
			// Like group actions, a watched group must exist (and cannot
			// be deleted while watched). A watched port need not: ports
			// come and go, and one that is absent is simply not live.
			return openflow.Errorf(openflow.GMFCBadWatch, "bucket %d watches group %d, which does not exist", i, bk.WatchGroup)
		}
		for _, a := range bk.Actions {
			if ga, ok := a.(openflow.ActionGroup); ok && ga.GroupID == gm.GroupID {
				return openflow.Errorf(openflow.GMFCLoop, "bucket %d forwards to its own group %d", i, gm.GroupID)
			}
		}
		if err := b.checkActions(bk.Actions, actionCheck{}); err != nil {
			return err
		}
	}
	// A modified group keeps its counters and age; buckets are new.
	stats, created := new(datapath.FlowStats), time.Now()
	if old != nil {
		stats, created = old.stats, old.created
	}
	g := &group{id: gm.GroupID, typ: gm.GroupType, buckets: gm.Buckets, stats: stats, created: created}
	for range gm.Buckets {
		g.bucketStats = append(g.bucketStats, new(datapath.FlowStats))
	}
	if old != nil && b.reaches(g, gm.GroupID) {
		return openflow.Errorf(openflow.GMFCLoop, "group %d would forward to itself through a chain", gm.GroupID)
	}
	tx.setGroup(g)
	return nil
}

// reaches reports whether g, directly or through chained groups, forwards
// to target. The existing graph has no cycle, so the walk ends.
func (b *Bridge) reaches(g *group, target uint32) bool {
	seen := map[uint32]bool{}
	var walk func(*group) bool
	walk = func(g *group) bool {
		for _, id := range g.refs() {
			if id == target {
				return true
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			if n := b.groups[id]; n != nil && walk(n) {
				return true
			}
		}
		return false
	}
	return walk(g)
}

// deleteGroup deletes group id (or all) and the flows that use it, as part
// of change tx.
func (b *Bridge) deleteGroup(tx *txn, id uint32) ([]*rule, error) {
	var victims map[uint32]bool
	switch {
	case id == openflow.GroupAll:
		victims = map[uint32]bool{}
		for gid := range b.groups {
			victims[gid] = true
		}
	case b.groups[id] == nil:
		return nil, nil // deleting a missing group is not an error
	default:
		for _, g := range b.groups {
			for _, r := range g.refs() {
				if r == id {
					return nil, openflow.Errorf(openflow.GMFCChainedGroup, "group %d forwards to group %d", g.id, id)
				}
			}
			for i := range g.buckets {
				if g.buckets[i].WatchGroup == id {
					return nil, openflow.Errorf(openflow.GMFCChainedGroup, "group %d watches group %d", g.id, id)
				}
			}
		}
		victims = map[uint32]bool{id: true}
	}
	sel := b.selectRules(tableAll, func(r *rule) bool {
		found := false
		r.eachAction(func(a openflow.Action) {
			if g, ok := a.(openflow.ActionGroup); ok && victims[g.GroupID] {
				found = true
			}
		})
		return found
	})
	return tx.removeRules(sel, func() {
		for gid := range victims {
			tx.deleteGroup(gid)
		}
	}), nil
}

// portLive reports whether port no can forward. b.mu must be held.
func (b *Bridge) portLive(no uint32) bool {
	p := b.ports[no]
	return p != nil && p.linkUp && p.config&openflow.PortConfigDown == 0
}

// bucketLive reports whether what bk watches is live; the groups it looks
// at join the translation's dependencies.
func (x *xlate) bucketLive(bk *openflow.Bucket, depth int) bool {
	if bk.WatchPort != openflow.PortAny && !x.b.portLive(bk.WatchPort) {
		return false
	}
	if bk.WatchGroup != openflow.GroupAny && !x.groupLive(bk.WatchGroup, depth+1) {
		return false
	}
	return true
}

// groupLive reports whether group id has a live bucket.
func (x *xlate) groupLive(id uint32, depth int) bool {
	x.deps.groupIDs = append(x.deps.groupIDs, id)
	g := x.b.groups[id]
	if g == nil || depth > maxGroupDepth {
		return false
	}
	for i := range g.buckets {
		if x.bucketLive(&g.buckets[i], depth) {
			return true
		}
	}
	return false
}

// group translates a group action (see xlate.go).
func (x *xlate) group(id uint32) {
	x.deps.groupIDs = append(x.deps.groupIDs, id)
	g := x.b.groups[id]
	if g == nil || x.depth >= maxGroupDepth {
		return
	}
	x.depth++
	defer func() { x.depth-- }()
	switch g.typ {
	case openflow.GroupTypeAll, openflow.GroupTypeIndirect:
		x.t.Stats = append(x.t.Stats, g.stats)
		for i := range g.buckets {
			x.inlineBucket(g, i)
		}
	case openflow.GroupTypeFF:
		x.t.Stats = append(x.t.Stats, g.stats)
		for i := range g.buckets {
			if x.bucketLive(&g.buckets[i], 0) {
				x.inlineBucket(g, i)
				break
			}
		}
		// No live bucket: the packet is dropped by this group.
	case openflow.GroupTypeSelect:
		// The datapath hashes the packet's L2-L4 fields to pick a bucket;
		// they join the mask (datapath.SelectMask) so that one megaflow
		// stays one flow. The datapath runs a bucket that rewrites the
		// packet on a copy by itself, so no clone is needed here. It
		// counts the chosen bucket (Bucket.Stats); the group's own total
		// is counted through the megaflow like every other counter, so
		// SelectGroup.Stats stays nil.
		sm := datapath.SelectMask()
		x.mask(&sm)
		x.t.Stats = append(x.t.Stats, g.stats)
		sg := &datapath.SelectGroup{}
		for i := range g.buckets {
			if !x.bucketLive(&g.buckets[i], 0) {
				continue
			}
			acts := x.bucketActions(g, i)
			sg.Buckets = append(sg.Buckets, datapath.Bucket{Weight: g.buckets[i].Weight, Actions: acts, Stats: g.bucketStats[i]})
		}
		x.emit(datapath.Action{Kind: datapath.ActSelect, Group: sg})
	}
}

// inlineBucket emits bucket i of g, on a clone of the packet if it changes
// headers, and counts it.
func (x *xlate) inlineBucket(g *group, i int) {
	x.t.Stats = append(x.t.Stats, g.bucketStats[i])
	acts := x.bucketActions(g, i)
	if isPure(acts) {
		*x.acts = append(*x.acts, acts...)
	} else {
		x.emit(datapath.Action{Kind: datapath.ActClone, Nested: acts})
	}
}

// bucketActions translates bucket i of g into its own action list. The key
// copy is restored afterwards: the bucket worked on a copy of the packet.
func (x *xlate) bucketActions(g *group, i int) []datapath.Action {
	savedKey, savedDirty, savedActs := x.key, x.dirty, x.acts
	var acts []datapath.Action
	x.acts = &acts
	if x.tr != nil {
		x.tr.bucket(g, i)
	}
	for _, a := range g.buckets[i].Actions {
		x.action(a)
	}
	x.key, x.dirty, x.acts = savedKey, savedDirty, savedActs
	return acts
}

// isPure reports whether acts leave the packet unchanged, so they can run
// on the packet itself rather than a clone.
func isPure(acts []datapath.Action) bool {
	for i := range acts {
		switch acts[i].Kind {
		case datapath.ActOutput, datapath.ActUserspace, datapath.ActClone:
		case datapath.ActSelect:
			// The datapath runs a rewriting bucket on a copy.
		default:
			return false
		}
	}
	return true
}

// groupStats reports group id's counters (GroupAll: every group).
func (b *Bridge) groupStats(id uint32) *openflow.GroupStatsReply {
	// Counting references walks every table: a long reader (see Bridge).
	b.modMu.Lock()
	defer b.modMu.Unlock()
	reply := &openflow.GroupStatsReply{}
	now := time.Now()
	groups := b.sortedGroups(id)
	refs := b.groupRefCounts()
	for _, g := range groups {
		d := now.Sub(g.created)
		s := openflow.GroupStats{
			GroupID: g.id, RefCount: refs[g.id],
			PacketCount: g.stats.Packets.Load(), ByteCount: g.stats.Bytes.Load(),
			DurationSec: durSec(d), DurationNsec: durNsec(d),
		}
		for _, bs := range g.bucketStats {
			s.Buckets = append(s.Buckets, openflow.BucketCounter{PacketCount: bs.Packets.Load(), ByteCount: bs.Bytes.Load()})
		}
		reply.Stats = append(reply.Stats, s)
	}
	return reply
}

// groupRefCounts counts, per group, the flows and groups that forward to
// it, in one walk over the tables.
func (b *Bridge) groupRefCounts() map[uint32]uint32 {
	n := map[uint32]uint32{}
	if len(b.groups) == 0 {
		return n
	}
	var seen []uint32
	count := func(id uint32) {
		if !slices.Contains(seen, id) {
			seen = append(seen, id)
			n[id]++
		}
	}
	for t := range b.tables {
		b.tables[t].each(func(r *rule) {
			seen = seen[:0]
			r.eachAction(func(a openflow.Action) {
				if g, ok := a.(openflow.ActionGroup); ok {
					count(g.GroupID)
				}
			})
		})
	}
	for _, g := range b.groups {
		seen = seen[:0]
		for _, id := range g.refs() {
			count(id)
		}
	}
	return n
}

func (b *Bridge) sortedGroups(id uint32) []*group {
	var out []*group
	if id != openflow.GroupAll {
		if g := b.groups[id]; g != nil {
			out = append(out, g)
		}
		return out
	}
	for _, g := range b.groups {
		out = append(out, g)
	}
	sortBy(out, func(g *group) uint32 { return g.id })
	return out
}

func (b *Bridge) groupDesc() *openflow.GroupDescReply {
	b.mu.RLock()
	defer b.mu.RUnlock()
	reply := &openflow.GroupDescReply{}
	for _, g := range b.sortedGroups(openflow.GroupAll) {
		reply.Groups = append(reply.Groups, openflow.GroupDesc{GroupType: g.typ, GroupID: g.id, Buckets: g.buckets})
	}
	return reply
}

func groupFeatures() *openflow.GroupFeaturesReply {
	var acts uint32
	for _, t := range supportedActions {
		acts |= 1 << t
	}
	return &openflow.GroupFeaturesReply{
		Types: 1<<openflow.GroupTypeAll | 1<<openflow.GroupTypeSelect | 1<<openflow.GroupTypeIndirect | 1<<openflow.GroupTypeFF,
		Capabilities: openflow.GroupCapSelectWeight | openflow.GroupCapSelectLiveness |
			openflow.GroupCapChaining | openflow.GroupCapChainingChecks,
		MaxGroups: [4]uint32{maxGroups, maxGroups, maxGroups, maxGroups},
		Actions:   [4]uint32{acts, acts, acts, acts},
	}
}
