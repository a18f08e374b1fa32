package ofproto

import (
	"strconv"
	"time"

	"github.com/goko-net/goko/openflow"
)

// Switch description reported in OFPMP_DESC.
const (
	mfrDesc = "goko project"
	hwDesc  = "goko userspace switch (DPDK)"
	swDesc  = "goko 0.1"
)

// Multipart requests split with OFPMPF_REQ_MORE are reassembled per xid
// before being handled, so a request is answered once, after its last
// part. Only table-features and experimenter bodies have content that can
// span parts; for the fixed-size bodies the first part is used.
const (
	maxPendingMultipart = 16   // xids being reassembled per connection
	maxMultipartParts   = 1024 // parts per request
)

type mpPending struct {
	body  openflow.MultipartBody
	parts int
}

// reassemble returns the complete request once its last part has arrived,
// or nil while parts are missing.
func (c *Conn) reassemble(xid uint32, req *openflow.MultipartRequest) (*openflow.MultipartRequest, error) {
	p := c.mpPending[xid]
	if p == nil && req.Flags&openflow.MultipartMore == 0 {
		return req, nil
	}
	if p == nil {
		if len(c.mpPending) >= maxPendingMultipart {
			return nil, openflow.Errorf(openflow.BRCMultipartBufferOverflow, "more than %d multipart requests in reassembly", maxPendingMultipart)
		}
		if c.mpPending == nil {
			c.mpPending = map[uint32]*mpPending{}
		}
		p = &mpPending{body: req.Body}
		c.mpPending[xid] = p
	} else {
		if p.body.MultipartType() != req.Body.MultipartType() {
			delete(c.mpPending, xid)
			return nil, openflow.Errorf(openflow.BRCBadMultipart, "multipart part of type %v continues a %v request", req.Body.MultipartType(), p.body.MultipartType())
		}
		switch body := req.Body.(type) {
		case *openflow.TableFeaturesRequest:
			first := p.body.(*openflow.TableFeaturesRequest)
			first.Tables = append(first.Tables, body.Tables...)
		case *openflow.MultipartExperimenterBody:
			first := p.body.(*openflow.MultipartExperimenterBody)
			first.Data = append(first.Data, body.Data...)
		}
	}
	p.parts++
	if p.parts > maxMultipartParts {
		delete(c.mpPending, xid)
		return nil, openflow.Errorf(openflow.BRCMultipartBufferOverflow, "multipart request of more than %d parts", maxMultipartParts)
	}
	if req.Flags&openflow.MultipartMore != 0 {
		return nil, nil
	}
	delete(c.mpPending, xid)
	return &openflow.MultipartRequest{Body: p.body}, nil
}

func (c *Conn) multipart(xid uint32, req *openflow.MultipartRequest) error {
	b := c.b
	req, err := c.reassemble(xid, req)
	if err != nil || req == nil {
		return err
	}
	var body openflow.MultipartBody
	switch req.Body.(type) {
	case *openflow.FlowStatsRequest, *openflow.AggregateStatsRequest, *openflow.TableStatsRequest,
		*openflow.GroupStatsRequest, *openflow.MeterStatsRequest:
		// Counters live on the datapath threads for up to 20 ms.
		b.dp.SyncCounters()
	}
	switch r := req.Body.(type) {
	case *openflow.DescRequest:
		body = &openflow.DescReply{MfrDesc: mfrDesc, HWDesc: hwDesc, SWDesc: swDesc, SerialNum: "None", DPDesc: b.cfg.Name}
	case *openflow.FlowStatsRequest:
		stats, err := b.flowStats(r)
		if err != nil {
			return err
		}
		body = &openflow.FlowStatsReply{Stats: stats}
	case *openflow.AggregateStatsRequest:
		fs := (*openflow.FlowStatsRequest)(r)
		stats, err := b.flowStats(fs)
		if err != nil {
			return err
		}
		agg := &openflow.AggregateStatsReply{FlowCount: uint32(len(stats))}
		for _, s := range stats {
			agg.PacketCount += s.PacketCount
			agg.ByteCount += s.ByteCount
		}
		body = agg
	case *openflow.TableStatsRequest:
		body = b.tableStats()
	case *openflow.PortStatsRequest:
		reply, err := b.portStats(r.PortNo)
		if err != nil {
			return err
		}
		body = reply
	case *openflow.PortDescRequest:
		b.mu.RLock()
		reply := &openflow.PortDescReply{}
		for _, p := range b.portList {
			reply.Ports = append(reply.Ports, b.portDesc(p))
		}
		b.mu.RUnlock()
		body = reply
	case *openflow.TableFeaturesRequest:
		if len(r.Tables) > 0 {
			return openflow.Errorf(openflow.TFFCEperm, "changing table features is not supported")
		}
		body = &openflow.TableFeaturesReply{Tables: tableFeatures(uint32(b.maxFlows()))}
	case *openflow.MultipartExperimenterBody:
		if r.Experimenter != openflow.GokoExperimenter {
			return openflow.Errorf(openflow.BRCBadExperimenter, "unknown experimenter %#x", r.Experimenter)
		}
		return c.gokoMultipart(xid, r)
	case *openflow.GroupStatsRequest:
		body = b.groupStats(r.GroupID)
	case *openflow.GroupDescRequest:
		body = b.groupDesc()
	case *openflow.GroupFeaturesRequest:
		body = groupFeatures()
	case *openflow.MeterStatsRequest:
		if body, err = b.meterStats(r.MeterID); err != nil {
			return err
		}
	case *openflow.MeterConfigRequest:
		if body, err = b.meterConfig(r.MeterID); err != nil {
			return err
		}
	case *openflow.MeterFeaturesRequest:
		body = meterFeatures()
	default:
		return openflow.Errorf(openflow.BRCBadMultipart, "multipart request %v is not supported", req.Body.MultipartType())
	}
	enc, err := openflow.AppendMultipartReplies(nil, xid, body, 0)
	if err != nil {
		return err
	}
	select {
	case c.out <- enc:
	case <-c.done:
	}
	return nil
}

// flowStats selects rules as a non-strict delete would and reports them.
// A table that does not exist and a match a flow-mod would refuse are
// errors, with the flow-mod's codes.
func (b *Bridge) flowStats(r *openflow.FlowStatsRequest) ([]openflow.FlowStats, error) {
	if r.TableID >= numTables && r.TableID != tableAll {
		return nil, openflow.Errorf(openflow.BRCBadTableID, "table %d does not exist (0-%d, or all)", r.TableID, numTables-1)
	}
	if err := r.Match.CheckPrereqs(); err != nil {
		return nil, err
	}
	m, err := compileMatch(&r.Match)
	if err != nil {
		return nil, err
	}
	sel := &openflow.FlowMod{Cookie: r.Cookie, CookieMask: r.CookieMask}
	now := time.Now()
	var out []openflow.FlowStats
	// A long reader: modMu, not mu (see Bridge).
	b.modMu.Lock()
	defer b.modMu.Unlock()
	for t := range b.tables {
		if r.TableID != tableAll && int(r.TableID) != t {
			continue
		}
		for _, ru := range b.tables[t].sorted(func(ru *rule) bool {
			return b.selected(sel, &m, false, ru) && ru.outputsTo(r.OutPort) && ru.usesGroup(r.OutGroup)
		}) {
			d := now.Sub(ru.createdAt())
			out = append(out, openflow.FlowStats{
				TableID:      ru.tableID,
				DurationSec:  durSec(d),
				DurationNsec: durNsec(d),
				Priority:     ru.priority,
				IdleTimeout:  ru.idleTimeout,
				HardTimeout:  ru.hardTimeout,
				Flags:        ru.flags,
				Cookie:       ru.cookie,
				PacketCount:  ru.stats.Packets.Load(),
				ByteCount:    ru.stats.Bytes.Load(),
				Match:        ru.Match(),
				Instructions: ru.instructions,
			})
		}
	}
	return out, nil
}

func (b *Bridge) tableStats() *openflow.TableStatsReply {
	reply := &openflow.TableStatsReply{Stats: make([]openflow.TableStats, numTables)}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for i := range b.tables {
		t := &b.tables[i]
		reply.Stats[i] = openflow.TableStats{
			TableID:      uint8(i),
			ActiveCount:  uint32(t.len()),
			LookupCount:  t.lookupStats.Packets.Load(),
			MatchedCount: t.matchStats.Packets.Load(),
		}
	}
	return reply
}

func (b *Bridge) portStats(no uint32) (*openflow.PortStatsReply, error) {
	reply := &openflow.PortStatsReply{}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if no != openflow.PortAny && b.ports[no] == nil {
		return nil, openflow.Errorf(openflow.BRCBadPort, "port %d does not exist", no)
	}
	d := time.Since(b.started)
	for _, p := range b.portList {
		if no != openflow.PortAny && p.no != no {
			continue
		}
		s := p.dp.Stats()
		reply.Stats = append(reply.Stats, openflow.PortStats{
			PortNo: p.no, RxPackets: s.RxPackets, TxPackets: s.TxPackets, RxBytes: s.RxBytes, TxBytes: s.TxBytes,
			RxDropped: s.RxDropped, TxDropped: s.TxDropped, RxErrors: s.RxErrors, TxErrors: s.TxErrors,
			DurationSec: durSec(d), DurationNsec: durNsec(d),
		})
	}
	return reply, nil
}

// matchFields are the OXM fields compileMatch accepts, and maskable says
// which of them take a mask. TABLE_FEATURES reports exactly these.
var matchFields = []openflow.Field{
	openflow.OXMInPort, openflow.OXMInPhyPort, openflow.OXMMetadata, openflow.OXMEthDst, openflow.OXMEthSrc,
	openflow.OXMEthType, openflow.OXMVlanVID, openflow.OXMVlanPCP, openflow.OXMIPDSCP, openflow.OXMIPECN,
	openflow.OXMIPProto, openflow.OXMIPv4Src, openflow.OXMIPv4Dst, openflow.OXMTCPSrc, openflow.OXMTCPDst,
	openflow.OXMUDPSrc, openflow.OXMUDPDst, openflow.OXMSCTPSrc, openflow.OXMSCTPDst, openflow.OXMICMPv4Type,
	openflow.OXMICMPv4Code, openflow.OXMARPOp, openflow.OXMARPSPA, openflow.OXMARPTPA, openflow.OXMARPSHA,
	openflow.OXMARPTHA, openflow.OXMIPv6Src, openflow.OXMIPv6Dst, openflow.OXMIPv6FLabel, openflow.OXMICMPv6Type,
	openflow.OXMICMPv6Code, openflow.OXMIPv6NDTarget, openflow.OXMIPv6NDSLL, openflow.OXMIPv6NDTLL,
	openflow.OXMMPLSLabel, openflow.OXMMPLSTC, openflow.OXMMPLSBOS, openflow.OXMPBBISID, openflow.OXMTunnelID,
	openflow.OXMIPv6ExtHdr,
}

// tableFeatures describes every table: what goko really supports, with the
// eight properties OpenFlow requires in each entry; maxEntries is the rule
// limit of a table.
func tableFeatures(maxEntries uint32) []openflow.TableFeatures {
	var match, wild []openflow.OXMID
	for _, f := range matchFields {
		match = append(match, openflow.NewOXMID(f, f.Maskable()))
		wild = append(wild, openflow.NewOXMID(f, false))
	}
	var actions []openflow.ActionID
	for _, t := range supportedActions {
		actions = append(actions, openflow.ActionID{Type: t})
	}
	var setf []openflow.OXMID
	for _, f := range settableFields {
		setf = append(setf, openflow.NewOXMID(f, false))
	}
	out := make([]openflow.TableFeatures, numTables)
	for i := range out {
		insts := []openflow.InstructionID{
			{Type: openflow.InstTypeApplyActions}, {Type: openflow.InstTypeClearActions},
			{Type: openflow.InstTypeWriteActions}, {Type: openflow.InstTypeWriteMetadata},
			{Type: openflow.InstTypeMeter},
		}
		var next []uint8
		if i < numTables-1 {
			insts = append(insts, openflow.InstructionID{Type: openflow.InstTypeGotoTable})
			for n := i + 1; n < numTables; n++ {
				next = append(next, uint8(n))
			}
		}
		out[i] = openflow.TableFeatures{
			TableID:       uint8(i),
			Name:          tableName(i),
			MetadataMatch: ^uint64(0),
			MetadataWrite: ^uint64(0),
			MaxEntries:    maxEntries,
			Properties: []openflow.TableFeatureProp{
				&openflow.TFPInstructions{Type: openflow.TFPTInstructions, Instructions: insts},
				&openflow.TFPNextTables{Type: openflow.TFPTNextTables, TableIDs: next},
				&openflow.TFPActions{Type: openflow.TFPTWriteActions, Actions: actions},
				&openflow.TFPActions{Type: openflow.TFPTApplyActions, Actions: actions},
				&openflow.TFPOXM{Type: openflow.TFPTMatch, Fields: match},
				&openflow.TFPOXM{Type: openflow.TFPTWildcards, Fields: wild},
				&openflow.TFPOXM{Type: openflow.TFPTWriteSetfield, Fields: setf},
				&openflow.TFPOXM{Type: openflow.TFPTApplySetfield, Fields: setf},
			},
		}
	}
	return out
}

func tableName(i int) string {
	if i == 0 {
		return "classifier"
	}
	return "table" + strconv.Itoa(i)
}

// durSec and durNsec split a duration for OpenFlow replies. Nanoseconds are
// rounded down to whole milliseconds, the precision of the timestamps the
// switch keeps for this purpose, as Open vSwitch does; ovs-ofctl then prints
// "duration=1.234s" for goko as for OVS, which scripts that parse its
// output expect.
func durSec(d time.Duration) uint32  { return uint32(d / time.Second) }
func durNsec(d time.Duration) uint32 { return uint32(d%time.Second) / 1e6 * 1e6 }
