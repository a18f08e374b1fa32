package ofclient

// goko's experimenter messages (docs/openflow-extensions.md): loading
// filter programs, listing them, and reading and writing their maps.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/goko-net/goko/openflow"
)

// GokoMessage is a goko experimenter message of type t.
func GokoMessage(t uint32, body []byte) *openflow.Experimenter {
	return &openflow.Experimenter{Experimenter: openflow.GokoExperimenter, ExpType: t, Data: body}
}

// GokoMultipart is a goko experimenter multipart body of type t.
func GokoMultipart(t uint32, body []byte) *openflow.MultipartExperimenterBody {
	return &openflow.MultipartExperimenterBody{Experimenter: openflow.GokoExperimenter, ExpType: t, Data: body}
}

// loadChunkSize is how much of an object one LOAD_FILTER_PROG message
// carries when the program name is name.
func loadChunkSize(name string) int {
	n := openflow.MaxMessageLen - 8 - 8 - 16 - (len(name)+7)/8*8
	return n &^ 7
}

// SendLoadFilterProg queues the LOAD_FILTER_PROG messages that load (or
// atomically replace) program id from the ELF object obj, in chunks, and
// returns their xids; Transact waits for the result. name selects the
// program in the object ("" for the first); runBudget 0 is the switch's
// default.
func (c *Conn) SendLoadFilterProg(id uint32, name string, obj []byte, runBudget uint64) ([]uint32, error) {
	chunk := loadChunkSize(name)
	var xids []uint32
	for off := 0; off < len(obj); off += chunk {
		end := min(off+chunk, len(obj))
		l := openflow.GokoLoadFilterProgMsg{ProgID: id, Name: name, TotalLen: uint32(len(obj)), Offset: uint32(off), Data: obj[off:end]}
		if off == 0 {
			l.RunBudget = runBudget
		}
		if end < len(obj) {
			l.Flags = openflow.GokoLoadMore
		}
		xid, err := c.Send(GokoMessage(openflow.GokoLoadFilterProg, l.Marshal()))
		if err != nil {
			return xids, fmt.Errorf("sending chunk at offset %d: %w", off, err)
		}
		xids = append(xids, xid)
	}
	return xids, nil
}

// Transact sends a barrier after the messages with the given xids
// (already queued) and waits for it, returning the replies and the
// errors to those messages.
func (c *Conn) Transact(ctx context.Context, xids []uint32) ([]openflow.Message, []*SwitchError, error) {
	ours := map[uint32]bool{}
	for _, x := range xids {
		ours[x] = true
	}
	bxid, err := c.Send(&openflow.BarrierRequest{})
	if err != nil {
		return nil, nil, err
	}
	var replies []openflow.Message
	var errs []*SwitchError
	for {
		xid, msg, err := c.Receive(ctx)
		if err != nil {
			if msg == nil && (errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "switch")) {
				return nil, nil, err
			}
			return nil, nil, fmt.Errorf("bad reply from the switch: %w", err)
		}
		if e, ok := msg.(*openflow.ErrorMsg); ok && (ours[xid] || xid == bxid) {
			errs = append(errs, &SwitchError{Xid: xid, Msg: e})
			if xid == bxid {
				return replies, errs, nil
			}
			continue
		}
		if xid == bxid {
			if _, ok := msg.(*openflow.BarrierReply); ok {
				return replies, errs, nil
			}
		}
		if ours[xid] {
			replies = append(replies, msg)
		}
	}
}

// FilterProgs fetches the descriptions of program id (GokoAllProgs: all).
// A refusal is returned as the *SwitchError itself.
func (c *Conn) FilterProgs(ctx context.Context, id uint32) ([]openflow.GokoFilterProgInfo, error) {
	bodies, _, err := c.Multipart(ctx, GokoMultipart(openflow.GokoMPFilterProgs, (&openflow.GokoProgRef{ProgID: id}).Marshal()))
	if err != nil {
		return nil, err
	}
	var progs []openflow.GokoFilterProgInfo
	for _, b := range bodies {
		e := b.(*openflow.MultipartExperimenterBody)
		var list openflow.GokoFilterProgList
		if err := list.Unmarshal(e.Data); err != nil {
			return nil, fmt.Errorf("bad filter programs reply: %w", err)
		}
		progs = append(progs, list.Progs...)
	}
	return progs, nil
}

// DumpMap reads every entry of map name of program id. A refusal is
// returned as the *SwitchError itself.
func (c *Conn) DumpMap(ctx context.Context, id uint32, name string) ([]openflow.GokoMapEntry, error) {
	ref := openflow.GokoMapRef{ProgID: id, Map: name}
	bodies, _, err := c.Multipart(ctx, GokoMultipart(openflow.GokoMPMap, ref.Marshal()))
	if err != nil {
		return nil, err
	}
	var entries []openflow.GokoMapEntry
	for _, b := range bodies {
		var d openflow.GokoMapDump
		if err := d.Unmarshal(b.(*openflow.MultipartExperimenterBody).Data); err != nil {
			return nil, fmt.Errorf("bad map dump reply: %w", err)
		}
		entries = append(entries, d.Entries...)
	}
	return entries, nil
}

// SendMapUpdate queues a write of key = value in map name of program id
// (flags: openflow.GokoMapAny, GokoMapNoExist or GokoMapExist); a value of
// nil deletes the key instead.
func (c *Conn) SendMapUpdate(id uint32, name string, key, value []byte, flags uint32) (uint32, error) {
	u := openflow.GokoMapUpdate{ProgID: id, Flags: flags, Map: name, Key: key, Value: value}
	t := openflow.GokoUpdateMap
	if value == nil {
		t = openflow.GokoDeleteMapEntry
	}
	return c.Send(GokoMessage(t, u.Marshal()))
}
