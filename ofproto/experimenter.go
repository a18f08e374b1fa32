package ofproto

// goko's experimenter messages (openflow/goko.go): loading programs in
// chunks, unloading them, map updates and goko's multipart requests. Each
// failure is answered with goko's own experimenter error code and the
// reason as text (gokoError).

import (
	"fmt"

	"github.com/goko-net/goko/openflow"
	"github.com/goko-net/goko/ubpf"
)

// maxProgramBytes is the largest ELF object accepted over OpenFlow.
const maxProgramBytes = 16 << 20

// pendingLoad collects the chunks of one LOAD_FILTER_PROG on a connection.
type pendingLoad struct {
	progID uint32
	name   string
	total  uint32
	budget uint64
	data   []byte
}

// gokoError is an error answered with an OFPET_EXPERIMENTER error.
type gokoError struct {
	code uint16
	msg  string
}

func (e *gokoError) Error() string {
	return openflow.GokoErrorName(e.code) + ": " + e.msg
}

func gokoErr(code uint16, format string, args ...any) error {
	return &gokoError{code: code, msg: fmt.Sprintf(format, args...)}
}

// broadcastExperimenter sends a goko experimenter message to every
// connection that is up, as an asynchronous message.
func (b *Bridge) broadcastExperimenter(expType uint32, body []byte) {
	msg := &openflow.Experimenter{Experimenter: openflow.GokoExperimenter, ExpType: expType, Data: body}
	enc, err := openflow.Marshal(0, msg)
	if err != nil {
		b.log.Error("encode goko message", "err", err)
		return
	}
	b.connMu.Lock()
	defer b.connMu.Unlock()
	for c := range b.conns {
		if c.ready.Load() && openflow.ControllerRole(c.role.Load()) != openflow.RoleSlave {
			c.queueAsync(enc)
		}
	}
}

// gokoMessage handles one goko experimenter message.
func (c *Conn) gokoMessage(xid uint32, m *openflow.Experimenter) error {
	b := c.b
	switch m.ExpType {
	case openflow.GokoLoadFilterProg:
		var ld openflow.GokoLoadFilterProgMsg
		if err := ld.Unmarshal(m.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		budget := ld.RunBudget
		if ld.Offset != 0 && c.load != nil {
			budget = c.load.budget
		}
		obj, done, err := c.collectChunk(&ld)
		if err != nil || !done {
			return err
		}
		if budget > ubpf.MaxRunBudget {
			return gokoErr(openflow.GokoErrBadRequest, "load filter %d: run budget %d exceeds %d", ld.ProgID, budget, ubpf.MaxRunBudget)
		}
		p, err := b.LoadFilterProgOpts(ld.ProgID, obj, FilterLoadOptions{Name: ld.Name, RunBudget: int(budget)})
		if err != nil {
			return err
		}
		list := &openflow.GokoFilterProgList{Progs: []openflow.GokoFilterProgInfo{progInfo(ld.ProgID, p)}}
		c.sendXID(xid, &openflow.Experimenter{Experimenter: openflow.GokoExperimenter,
			ExpType: openflow.GokoFilterProgLoaded, Data: list.Marshal()})
	case openflow.GokoUnloadFilterProg:
		var ref openflow.GokoProgRef
		if err := ref.Unmarshal(m.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		return b.UnloadFilterProg(ref.ProgID)
	case openflow.GokoUpdateMap, openflow.GokoDeleteMapEntry:
		var u openflow.GokoMapUpdate
		if err := u.Unmarshal(m.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		return b.updateMap(&u, m.ExpType == openflow.GokoDeleteMapEntry)
	default:
		return openflow.Errorf(openflow.BRCBadExpType, "unknown goko message type %d", m.ExpType)
	}
	return nil
}

// collectChunk adds one chunk of a program load and returns the whole
// object once the last chunk arrived.
func (c *Conn) collectChunk(ld *openflow.GokoLoadFilterProgMsg) ([]byte, bool, error) {
	if ld.TotalLen > maxProgramBytes {
		return nil, false, gokoErr(openflow.GokoErrBadChunk, "object of %d bytes exceeds %d", ld.TotalLen, maxProgramBytes)
	}
	p := c.load
	if ld.Offset == 0 {
		p = &pendingLoad{progID: ld.ProgID, name: ld.Name, total: ld.TotalLen, budget: ld.RunBudget, data: make([]byte, 0, ld.TotalLen)}
		c.load = p
	}
	if p == nil || p.progID != ld.ProgID || p.total != ld.TotalLen || uint32(len(p.data)) != ld.Offset ||
		uint64(len(p.data))+uint64(len(ld.Data)) > uint64(p.total) {
		c.load = nil
		return nil, false, gokoErr(openflow.GokoErrBadChunk, "chunk at offset %d of program %d is out of sequence", ld.Offset, ld.ProgID)
	}
	p.data = append(p.data, ld.Data...)
	if ld.Flags&openflow.GokoLoadMore != 0 {
		return nil, false, nil
	}
	c.load = nil
	if uint32(len(p.data)) != p.total {
		return nil, false, gokoErr(openflow.GokoErrBadChunk, "program %d: got %d of %d bytes", ld.ProgID, len(p.data), p.total)
	}
	return p.data, true, nil
}

// gokoMultipart answers goko's experimenter multipart requests.
func (c *Conn) gokoMultipart(xid uint32, body *openflow.MultipartExperimenterBody) error {
	b := c.b
	var parts [][]byte
	switch body.ExpType {
	case openflow.GokoMPFilterProgs:
		var ref openflow.GokoProgRef
		if err := ref.Unmarshal(body.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		list, err := b.filterProgList(ref.ProgID)
		if err != nil {
			return err
		}
		parts = append(parts, list.Marshal())
	case openflow.GokoMPMap:
		var ref openflow.GokoMapRef
		if err := ref.Unmarshal(body.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		m, err := b.filterMap(ref.ProgID, ref.Map)
		if err != nil {
			return err
		}
		for _, d := range mapDumps(ref.ProgID, m) {
			parts = append(parts, d.Marshal())
		}
	default:
		var err error
		if parts, err = c.gokoDiag(body); err != nil {
			return err
		}
	}
	c.sendGokoParts(xid, body.ExpType, parts)
	return nil
}

// sendGokoParts sends the parts of a goko multipart reply.
func (c *Conn) sendGokoParts(xid, expType uint32, parts [][]byte) {
	for i, p := range parts {
		reply := &openflow.MultipartReply{Body: &openflow.MultipartExperimenterBody{
			Experimenter: openflow.GokoExperimenter, ExpType: expType, Data: p}}
		if i < len(parts)-1 {
			reply.Flags = openflow.MultipartMore
		}
		c.sendXID(xid, reply)
	}
}
