package fakeswitch

// goko's filter-program extensions, as a fake: programs are not run,
// but loading (in chunks), unloading, the program and map dumps, map
// updates and the errors follow docs/openflow-extensions.md.

import (
	"bytes"
	"sort"

	"github.com/goko-net/goko/openflow"
)

type prog struct {
	info openflow.GokoFilterProgInfo
	maps map[string]*fmap
}

type fmap struct {
	info    openflow.GokoMapInfo
	entries []openflow.GokoMapEntry
}

type pendingLoad struct {
	name  string
	total uint32
	data  []byte
}

// DefaultMaps are the maps a loaded program gets when Verify is nil: a
// hash map "counters" (4-byte keys, 8-byte values) and an array "config"
// (4-byte keys and values, 4 entries).
func DefaultMaps() []openflow.GokoMapInfo {
	return []openflow.GokoMapInfo{
		{Name: "counters", Type: "hash", KeySize: 4, ValueSize: 8, MaxEntries: 1024},
		{Name: "config", Type: "array", KeySize: 4, ValueSize: 4, MaxEntries: 4},
	}
}

// MapEntries returns a copy of a map's entries.
func (s *Switch) MapEntries(progID uint32, mapName string) []openflow.GokoMapEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.progs[progID]
	if p == nil || p.maps[mapName] == nil {
		return nil
	}
	return append([]openflow.GokoMapEntry(nil), p.maps[mapName].entries...)
}

func (m *fmap) find(key []byte) int {
	for i, e := range m.entries {
		if bytes.Equal(e.Key, key) {
			return i
		}
	}
	return -1
}

func (m *fmap) put(key, value []byte) {
	if i := m.find(key); i >= 0 {
		m.entries[i].Value = append([]byte(nil), value...)
		return
	}
	m.entries = append(m.entries, openflow.GokoMapEntry{Key: append([]byte(nil), key...), Value: append([]byte(nil), value...)})
	sort.Slice(m.entries, func(i, j int) bool { return bytes.Compare(m.entries[i].Key, m.entries[j].Key) < 0 })
}

func gokoMsg(t uint32, body []byte) *openflow.Experimenter {
	return &openflow.Experimenter{Experimenter: openflow.GokoExperimenter, ExpType: t, Data: body}
}

// checkFilterProgs refuses a flow that matches on a program not loaded.
func (s *Switch) checkFilterProgs(m *openflow.FlowMod) *openflow.ErrorMsg {
	if m.Command != openflow.FlowAdd && m.Command != openflow.FlowModify && m.Command != openflow.FlowModifyStrict {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range m.Match.Fields {
		if id, ok := f.FilterProgID(); ok && s.progs[id] == nil {
			return openflow.GokoError(openflow.GokoErrUnknownProg, "filter program %d is not loaded", id)
		}
	}
	return nil
}

func (s *Switch) experimenter(xid uint32, m *openflow.Experimenter, raw []byte, send func(uint32, openflow.Message) error) error {
	if m.Experimenter != openflow.GokoExperimenter {
		return send(xid, openflow.NewErrorReply(openflow.BRCBadExperimenter, raw))
	}
	reply := func(e *openflow.ErrorMsg) error {
		if e != nil {
			return send(xid, e)
		}
		return nil
	}
	switch m.ExpType {
	case openflow.GokoLoadFilterProg:
		var l openflow.GokoLoadFilterProgMsg
		if err := l.Unmarshal(m.Data); err != nil {
			return reply(openflow.GokoError(openflow.GokoErrBadRequest, "%v", err))
		}
		loaded, e := s.load(&l)
		if e != nil || loaded == nil {
			return reply(e)
		}
		return send(xid, gokoMsg(openflow.GokoFilterProgLoaded, loaded.Marshal()))
	case openflow.GokoUnloadFilterProg:
		var r openflow.GokoProgRef
		if err := r.Unmarshal(m.Data); err != nil {
			return reply(openflow.GokoError(openflow.GokoErrBadRequest, "%v", err))
		}
		return reply(s.unload(r.ProgID))
	case openflow.GokoUpdateMap, openflow.GokoDeleteMapEntry:
		var u openflow.GokoMapUpdate
		if err := u.Unmarshal(m.Data); err != nil {
			return reply(openflow.GokoError(openflow.GokoErrBadRequest, "%v", err))
		}
		return reply(s.updateMap(&u, m.ExpType == openflow.GokoDeleteMapEntry))
	}
	return reply(openflow.GokoError(openflow.GokoErrBadRequest, "unknown goko message type %d", m.ExpType))
}

func (s *Switch) load(l *openflow.GokoLoadFilterProgMsg) (*openflow.GokoFilterProgList, *openflow.ErrorMsg) {
	s.mu.Lock()
	if s.loads == nil {
		s.loads = map[uint32]*pendingLoad{}
	}
	p := s.loads[l.ProgID]
	if l.Offset == 0 {
		p = &pendingLoad{name: l.Name, total: l.TotalLen}
		s.loads[l.ProgID] = p
	}
	if p == nil || l.Offset != uint32(len(p.data)) || l.TotalLen != p.total || l.Name != p.name ||
		uint64(l.Offset)+uint64(len(l.Data)) > uint64(l.TotalLen) {
		delete(s.loads, l.ProgID)
		s.mu.Unlock()
		return nil, openflow.GokoError(openflow.GokoErrBadChunk, "chunk at offset %d out of sequence", l.Offset)
	}
	p.data = append(p.data, l.Data...)
	if l.Flags&openflow.GokoLoadMore != 0 {
		s.mu.Unlock()
		return nil, nil
	}
	delete(s.loads, l.ProgID)
	s.mu.Unlock()
	if uint32(len(p.data)) != p.total {
		return nil, openflow.GokoError(openflow.GokoErrBadChunk, "object is %d bytes, expected %d", len(p.data), p.total)
	}
	if !bytes.HasPrefix(p.data, []byte("\x7fELF")) {
		return nil, openflow.GokoError(openflow.GokoErrBadELF, "not an ELF object")
	}
	maps := DefaultMaps()
	if s.Verify != nil {
		var e *openflow.ErrorMsg
		if maps, e = s.Verify(l.ProgID, l.Name, p.data); e != nil {
			return nil, e
		}
	}
	name := l.Name
	if name == "" {
		name = "filter"
	}
	np := &prog{info: openflow.GokoFilterProgInfo{ProgID: l.ProgID, Name: name, InsnCount: uint32(len(p.data) / 8)},
		maps: map[string]*fmap{}}
	for _, mi := range maps {
		np.maps[mi.Name] = &fmap{info: mi}
	}
	s.mu.Lock()
	if s.progs == nil {
		s.progs = map[uint32]*prog{}
	}
	s.progs[l.ProgID] = np
	info := np.infoLocked()
	s.mu.Unlock()
	return &openflow.GokoFilterProgList{Progs: []openflow.GokoFilterProgInfo{info}}, nil
}

// infoLocked returns the program's description with current map sizes.
func (p *prog) infoLocked() openflow.GokoFilterProgInfo {
	info := p.info
	info.Maps = nil
	names := make([]string, 0, len(p.maps))
	for n := range p.maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		mi := p.maps[n].info
		mi.Entries = uint32(len(p.maps[n].entries))
		info.Maps = append(info.Maps, mi)
	}
	return info
}

// SetProgStats sets a loaded program's counters.
func (s *Switch) SetProgStats(id uint32, runs, matches, errs, runNs uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.progs[id]
	p.info.Runs, p.info.Matches, p.info.Errors, p.info.RunNs = runs, matches, errs, runNs
}

func (s *Switch) unload(id uint32) *openflow.ErrorMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.progs[id] == nil {
		return openflow.GokoError(openflow.GokoErrUnknownProg, "no filter program %d", id)
	}
	for _, f := range s.flows {
		for _, o := range f.Match.Fields {
			if pid, ok := o.FilterProgID(); ok && pid == id {
				return openflow.GokoError(openflow.GokoErrProgInUse, "flows still match on filter program %d", id)
			}
		}
	}
	delete(s.progs, id)
	return nil
}

func (s *Switch) updateMap(u *openflow.GokoMapUpdate, del bool) *openflow.ErrorMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.progs[u.ProgID]
	if p == nil {
		return openflow.GokoError(openflow.GokoErrUnknownProg, "no filter program %d", u.ProgID)
	}
	m := p.maps[u.Map]
	if m == nil {
		return openflow.GokoError(openflow.GokoErrUnknownMap, "program %d has no map %q", u.ProgID, u.Map)
	}
	if uint32(len(u.Key)) != m.info.KeySize {
		return openflow.GokoError(openflow.GokoErrBadKey, "key is %d bytes, map %q has %d-byte keys", len(u.Key), u.Map, m.info.KeySize)
	}
	i := m.find(u.Key)
	if del {
		if m.info.Type == "array" {
			return openflow.GokoError(openflow.GokoErrUnsupported, "cannot delete from an array")
		}
		if i < 0 {
			return openflow.GokoError(openflow.GokoErrNoEntry, "no such key")
		}
		m.entries = append(m.entries[:i], m.entries[i+1:]...)
		return nil
	}
	if uint32(len(u.Value)) != m.info.ValueSize {
		return openflow.GokoError(openflow.GokoErrBadValue, "value is %d bytes, map %q has %d-byte values", len(u.Value), u.Map, m.info.ValueSize)
	}
	switch {
	case u.Flags == openflow.GokoMapNoExist && i >= 0:
		return openflow.GokoError(openflow.GokoErrExists, "key exists")
	case u.Flags == openflow.GokoMapExist && i < 0:
		return openflow.GokoError(openflow.GokoErrNoEntry, "no such key")
	case i < 0 && uint32(len(m.entries)) >= m.info.MaxEntries:
		return openflow.GokoError(openflow.GokoErrMapFull, "map %q is full", u.Map)
	}
	m.put(u.Key, u.Value)
	return nil
}

func (s *Switch) multipartExperimenter(xid uint32, e *openflow.MultipartExperimenterBody, raw []byte, cn *conn, send func(uint32, openflow.Message) error) error {
	if e.Experimenter != openflow.GokoExperimenter {
		return send(xid, openflow.NewErrorReply(openflow.BRCBadExperimenter, raw))
	}
	body := func(t uint32, b []byte) *openflow.MultipartExperimenterBody {
		return &openflow.MultipartExperimenterBody{Experimenter: openflow.GokoExperimenter, ExpType: t, Data: b}
	}
	switch e.ExpType {
	case openflow.GokoMPFilterProgs:
		var r openflow.GokoProgRef
		if err := r.Unmarshal(e.Data); err != nil {
			return send(xid, openflow.GokoError(openflow.GokoErrBadRequest, "%v", err))
		}
		s.mu.Lock()
		var list openflow.GokoFilterProgList
		ids := make([]uint32, 0, len(s.progs))
		for id := range s.progs {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			if r.ProgID == openflow.GokoAllProgs || r.ProgID == id {
				list.Progs = append(list.Progs, s.progs[id].infoLocked())
			}
		}
		s.mu.Unlock()
		if r.ProgID != openflow.GokoAllProgs && len(list.Progs) == 0 {
			return send(xid, openflow.GokoError(openflow.GokoErrUnknownProg, "no filter program %d", r.ProgID))
		}
		return send(xid, &openflow.MultipartReply{Body: body(openflow.GokoMPFilterProgs, list.Marshal())})
	case openflow.GokoMPMap:
		var r openflow.GokoMapRef
		if err := r.Unmarshal(e.Data); err != nil {
			return send(xid, openflow.GokoError(openflow.GokoErrBadRequest, "%v", err))
		}
		s.mu.Lock()
		p := s.progs[r.ProgID]
		var entries []openflow.GokoMapEntry
		var m *fmap
		if p != nil {
			m = p.maps[r.Map]
		}
		if m != nil {
			entries = append(entries, m.entries...)
		}
		chunk := s.MapChunk
		s.mu.Unlock()
		switch {
		case p == nil:
			return send(xid, openflow.GokoError(openflow.GokoErrUnknownProg, "no filter program %d", r.ProgID))
		case m == nil:
			return send(xid, openflow.GokoError(openflow.GokoErrUnknownMap, "program %d has no map %q", r.ProgID, r.Map))
		}
		if chunk <= 0 {
			chunk = 100
		}
		for i := 0; ; i += chunk {
			end := min(i+chunk, len(entries))
			d := openflow.GokoMapDump{ProgID: r.ProgID, Map: r.Map, Entries: entries[i:end]}
			rep := &openflow.MultipartReply{Body: body(openflow.GokoMPMap, d.Marshal())}
			if end < len(entries) {
				rep.Flags = openflow.MultipartMore
			}
			if err := send(xid, rep); err != nil {
				return err
			}
			if end >= len(entries) {
				return nil
			}
		}
	}
	return send(xid, openflow.GokoError(openflow.GokoErrBadRequest, "unknown goko multipart type %d", e.ExpType))
}
