package ofproto

import (
	"errors"
	"fmt"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// handle processes one decoded request. Errors for the peer are sent as
// ERROR replies; a returned error ends the session.
func (c *Conn) handle(xid uint32, msg openflow.Message, raw []byte) error {
	if h, ok := msg.(*openflow.Hello); ok {
		if _, ok := h.Negotiate(); !ok {
			c.sendXID(xid, openflow.NewErrorReply(openflow.HFCIncompatible,
				[]byte(fmt.Sprintf("goko speaks OpenFlow 1.3 (0x04) only; peer offered version %#x", h.Version))))
			// Carries its code so that the session flushes the ERROR
			// before it closes.
			return openflow.Errorf(openflow.HFCIncompatible, "hello: no common version with peer (offered %#x)", h.Version)
		}
		c.ready.Store(true)
		return nil
	}
	if err := c.dispatch(xid, msg, raw); err != nil {
		var ge *gokoError
		if errors.As(err, &ge) {
			// goko's own failures carry their reason as text (for a
			// verifier rejection, the verifier's log).
			c.sendXID(xid, openflow.GokoError(ge.code, "%s", ge.msg))
		} else {
			c.sendXID(xid, openflow.ErrorReplyFor(err, raw, openflow.BRCEperm))
		}
	}
	return nil
}

// modifiesState lists the requests a slave controller may not send
// (OpenFlow 1.3 section 6.3.5).
func modifiesState(msg openflow.Message) bool {
	switch msg.(type) {
	case *openflow.FlowMod, *openflow.PacketOut, *openflow.PortMod, *openflow.TableMod,
		*openflow.GroupMod, *openflow.MeterMod:
		return true
	}
	return false
}

func (c *Conn) dispatch(xid uint32, msg openflow.Message, raw []byte) error {
	b := c.b
	if modifiesState(msg) && openflow.ControllerRole(c.role.Load()) == openflow.RoleSlave {
		return openflow.Errorf(openflow.BRCIsSlave, "%v from a slave controller", msg.Type())
	}
	switch m := msg.(type) {
	case *openflow.EchoRequest:
		c.sendXID(xid, &openflow.EchoReply{Data: m.Data})
	case *openflow.EchoReply, *openflow.BarrierReply:
		// Answers to our probes; lastRx already moved.
	case *openflow.FeaturesRequest:
		c.sendXID(xid, &openflow.FeaturesReply{
			DatapathID:   b.cfg.DatapathID,
			NBuffers:     bufferSlots,
			NTables:      numTables,
			Capabilities: openflow.CapFlowStats | openflow.CapTableStats | openflow.CapPortStats | openflow.CapGroupStats,
		})
	case *openflow.GetConfigRequest:
		c.sendXID(xid, &openflow.GetConfigReply{SwitchConfig: openflow.SwitchConfig{
			Flags:       openflow.ConfigFlags(b.switchFlags.Load()),
			MissSendLen: uint16(b.missSendLen.Load()),
		}})
	case *openflow.SetConfig:
		if m.Flags&^openflow.FragMask != 0 {
			return openflow.Errorf(openflow.SCFCBadFlags, "unknown config flags %#x", uint16(m.Flags))
		}
		if m.Flags&openflow.FragMask == openflow.FragReasm {
			return openflow.Errorf(openflow.SCFCBadFlags, "IP reassembly is not supported")
		}
		b.update(func(tx *txn) error {
			tx.setSwitchFlags(m.Flags)
			return nil
		})
		// Read when a packet-in is sent, not cached.
		b.missSendLen.Store(uint32(m.MissSendLen))
	case *openflow.BarrierRequest:
		// Requests are handled in order, so everything before the barrier
		// is applied (and invalidated, change.go); Sync waits, with no
		// deadline, until no pmd can still use older decisions.
		b.dp.Sync()
		c.sendXID(xid, &openflow.BarrierReply{})
	case *openflow.FlowMod:
		err := b.FlowMod(m)
		if b.debug() {
			c.logFlowMod(xid, m, err)
		}
		return err
	case *openflow.PacketOut:
		return b.PacketOut(m)
	case *openflow.PortMod:
		return b.PortMod(m)
	case *openflow.MultipartRequest:
		return c.multipart(xid, m)
	case *openflow.RoleRequest:
		return c.roleRequest(xid, m)
	case *openflow.GetAsyncRequest:
		c.sendXID(xid, &openflow.GetAsyncReply{AsyncConfig: *c.async.Load()})
	case *openflow.SetAsync:
		a := m.AsyncConfig
		c.async.Store(&a)
	case *openflow.Experimenter:
		if m.Experimenter != openflow.GokoExperimenter {
			return openflow.Errorf(openflow.BRCBadExperimenter, "unknown experimenter %#x", m.Experimenter)
		}
		return c.gokoMessage(xid, m)
	case *openflow.TableMod:
		if m.TableID >= numTables && m.TableID != tableAll {
			return openflow.Errorf(openflow.TMFCBadTable, "table %d does not exist", m.TableID)
		}
		// OpenFlow 1.3 defines no table config bits but the two
		// deprecated ones (OFPTC_DEPRECATED_MASK); nothing to store.
		if m.Config&^openflow.TableConfig(3) != 0 {
			return openflow.Errorf(openflow.TMFCBadConfig, "table config %#x: OpenFlow 1.3 defines none of these bits", uint32(m.Config))
		}
	case *openflow.GroupMod:
		return b.GroupMod(m)
	case *openflow.MeterMod:
		return b.MeterMod(m)
	default:
		return openflow.Errorf(openflow.BRCBadType, "%v is not a request a switch accepts", msg.Type())
	}
	return nil
}

// roleRequest implements master/slave election with generation ids
// (OpenFlow 1.3 section 6.3.5).
func (c *Conn) roleRequest(xid uint32, m *openflow.RoleRequest) error {
	b := c.b
	switch m.Role {
	case openflow.RoleNoChange:
	case openflow.RoleEqual, openflow.RoleMaster, openflow.RoleSlave:
		if m.Role != openflow.RoleEqual {
			b.connMu.Lock()
			if b.genIDSet && int64(m.GenerationID-b.genID) < 0 {
				b.connMu.Unlock()
				return openflow.Errorf(openflow.RRFCStale, "generation id %d is older than %d", m.GenerationID, b.genID)
			}
			b.genID, b.genIDSet = m.GenerationID, true
			if m.Role == openflow.RoleMaster {
				for other := range b.conns {
					if other != c && openflow.ControllerRole(other.role.Load()) == openflow.RoleMaster {
						other.role.Store(uint32(openflow.RoleSlave))
					}
				}
			}
			b.connMu.Unlock()
		}
		c.role.Store(uint32(m.Role))
	default:
		return openflow.Errorf(openflow.RRFCBadRole, "unknown role %d", m.Role)
	}
	b.connMu.Lock()
	gen := b.genID
	b.connMu.Unlock()
	c.sendXID(xid, &openflow.RoleReply{RoleMsg: openflow.RoleMsg{Role: openflow.ControllerRole(c.role.Load()), GenerationID: gen}})
	return nil
}

// PacketOut injects a controller's packet into the datapath.
func (b *Bridge) PacketOut(po *openflow.PacketOut) error {
	in := po.InPort
	if in != openflow.PortController && in != openflow.PortLocal && in != openflow.PortAny && (in == 0 || in > openflow.PortMax) {
		return openflow.Errorf(openflow.BRCBadPort, "packet-out in_port %#x is not valid", in)
	}
	if po.BufferID == openflow.NoBuffer && len(po.Data) < 14 {
		return openflow.Errorf(openflow.BRCBadPacket, "packet-out carries %d bytes, less than an Ethernet header", len(po.Data))
	}
	// Actions are checked against the packet itself, the only "match" a
	// packet-out has; nothing is consumed before they pass.
	pkt := po.Data
	if po.BufferID != openflow.NoBuffer {
		var err error
		if pkt, err = b.buffers.peek(po.BufferID); err != nil {
			return err
		}
	}
	var key datapath.FlowKey
	datapath.Parse(pkt, in, &key)
	b.mu.RLock()
	var err error
	if in >= 1 && in <= openflow.PortMax && b.ports[in] == nil {
		// "a valid standard switch port or OFPP_CONTROLLER" (section
		// 7.3.7); LOCAL and ANY are accepted too, as Open vSwitch does.
		err = openflow.Errorf(openflow.BRCBadPort, "packet-out in_port %d does not exist", in)
	} else {
		err = b.checkActions(po.Actions, actionCheck{ctx: keyCtx(&key), packetOut: true})
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	if po.BufferID != openflow.NoBuffer {
		if pkt, _, err = b.buffers.take(po.BufferID); err != nil {
			return err
		}
	} else {
		pkt = append([]byte(nil), po.Data...)
	}
	return b.runPacketOut(in, pkt, po.Actions)
}

// runPacketOut translates actions for pkt, which arrived on in, and hands
// the packet to the datapath. output:TABLE runs the pipeline; the counters
// the pipeline touched count this packet, as the datapath does not count
// injected packets.
func (b *Bridge) runPacketOut(in uint32, pkt []byte, actions []openflow.Action) error {
	var key datapath.FlowKey
	m := datapath.Miss{FilterInput: datapath.FilterInput{Data: pkt, Key: &key, Off: datapath.Parse(pkt, in, &key)}}
	var t datapath.Translation
	b.mu.RLock()
	x := newXlate(b, &m, &t)
	for _, a := range actions {
		if o, ok := a.(openflow.ActionOutput); ok && o.Port == openflow.PortTable {
			x.rule, x.md, x.actionSet = nil, 0, nil
			x.pipeline(0)
			continue
		}
		x.action(a)
	}
	b.mu.RUnlock()
	now := time.Now().UnixNano()
	for _, s := range t.Stats {
		s.Packets.Add(1)
		s.Bytes.Add(uint64(len(pkt)))
		s.Used.Store(now)
	}
	return b.dp.Inject(in, pkt, t.Actions)
}

// PortMod changes a port's administrative configuration.
func (b *Bridge) PortMod(pm *openflow.PortMod) error {
	const settable = openflow.PortConfigDown | openflow.PortConfigNoRecv | openflow.PortConfigNoFwd | openflow.PortConfigNoPacketIn
	var desc openflow.Port
	err := b.update(func(tx *txn) error {
		p := b.ports[pm.PortNo]
		if p == nil {
			return openflow.Errorf(openflow.PMFCBadPort, "port %d does not exist", pm.PortNo)
		}
		mac := p.dp.Info().HWAddr
		if len(mac) == 6 && [6]byte(mac) != pm.HWAddr {
			return openflow.Errorf(openflow.PMFCBadHWAddr, "hw_addr %x does not match port %d (%s)", pm.HWAddr, pm.PortNo, mac)
		}
		if pm.Mask&^settable != 0 {
			return openflow.Errorf(openflow.PMFCBadConfig, "config bits %#x cannot be set", uint32(pm.Mask&^settable))
		}
		if sup := b.portDesc(p).Supported; pm.Advertise&^sup != 0 {
			return openflow.Errorf(openflow.PMFCBadAdvertise, "advertise %#x: port %d supports only %#x", uint32(pm.Advertise), pm.PortNo, uint32(sup))
		}
		tx.setPortConfig(p, p.config&^pm.Mask|pm.Config&pm.Mask)
		desc = b.portDesc(p)
		return nil
	})
	if err != nil {
		return err
	}
	b.broadcastPortStatus(openflow.PortReasonModify, desc)
	return nil
}

// portDesc describes p for PORT_DESC and PORT_STATUS; b.mu must be held.
func (b *Bridge) portDesc(p *port) openflow.Port {
	info := p.dp.Info()
	d := openflow.Port{PortNo: p.no, Name: info.Name, Config: p.config}
	if len(d.Name) > 15 {
		d.Name = d.Name[:15]
	}
	copy(d.HWAddr[:], info.HWAddr)
	// An administratively down port has no link, as with Open vSwitch
	// (which takes the device down): LINK_DOWN, and not live for
	// fast-failover groups.
	if info.LinkUp && p.config&openflow.PortConfigDown == 0 {
		d.State = openflow.PortStateLive
	} else {
		d.State = openflow.PortStateLinkDown
	}
	d.CurrSpeed = info.SpeedMb * 1000
	d.MaxSpeed = d.CurrSpeed
	d.Curr = speedFeature(info.SpeedMb) | openflow.PortFeatureCopper
	d.Supported = d.Curr
	return d
}

func speedFeature(mb uint32) openflow.PortFeatures {
	switch {
	case mb >= 1000000:
		return openflow.PortFeature1TbFD
	case mb >= 100000:
		return openflow.PortFeature100GbFD
	case mb >= 40000:
		return openflow.PortFeature40GbFD
	case mb >= 10000:
		return openflow.PortFeature10GbFD
	case mb >= 1000:
		return openflow.PortFeature1GbFD
	case mb >= 100:
		return openflow.PortFeature100MbFD
	case mb > 0:
		return openflow.PortFeature10MbFD
	}
	return openflow.PortFeatureOther
}

func (b *Bridge) broadcastPortStatus(reason openflow.PortReason, desc openflow.Port) {
	b.broadcast(asyncPortStatus, uint8(reason), &openflow.PortStatus{Reason: reason, Desc: desc})
}

func (b *Bridge) sendFlowRemoved(r *rule, reason openflow.FlowRemovedReason, now time.Time) {
	if r.flags&openflow.FlowFlagSendFlowRem == 0 {
		return
	}
	d := now.Sub(r.createdAt())
	b.broadcast(asyncFlowRemoved, uint8(reason), &openflow.FlowRemoved{
		Cookie:       r.cookie,
		Priority:     r.priority,
		Reason:       reason,
		TableID:      r.tableID,
		DurationSec:  durSec(d),
		DurationNsec: durNsec(d),
		IdleTimeout:  r.idleTimeout,
		HardTimeout:  r.hardTimeout,
		PacketCount:  r.stats.Packets.Load(),
		ByteCount:    r.stats.Bytes.Load(),
		Match:        r.Match(),
	})
}

// Upcall implements datapath.Upcaller: it turns a packet the pipeline sent
// to the controller into a PACKET_IN for every connection that wants it.
// It runs on a datapath thread and never blocks.
func (b *Bridge) Upcall(pkt []byte, key *datapath.FlowKey, u *datapath.Userspace) {
	if sm, ok := u.Arg.(*sendMapsArg); ok {
		b.sendMaps(sm)
		return
	}
	arg, ok := u.Arg.(*packetInArg)
	if !ok {
		return
	}
	maxLen := arg.maxLen
	if arg.missSendLen {
		// Packet-ins not caused by an output action carry miss_send_len
		// bytes (OpenFlow 1.3.5 section 7.4.1).
		maxLen = uint16(b.missSendLen.Load())
	}
	data, bufID := pkt, openflow.NoBuffer
	if maxLen != openflow.ControllerMaxLenNoBuffer && int(maxLen) < len(pkt) {
		// Truncated: the whole packet waits in a buffer the controller
		// can name in a packet-out or flow-mod.
		bufID = b.buffers.store(pkt, key.InPort)
		data = pkt[:maxLen]
	}
	pi := &openflow.PacketIn{
		BufferID: bufID,
		TotalLen: uint16(min(len(pkt), 0xffff)),
		Reason:   arg.reason,
		TableID:  arg.tableID,
		Cookie:   arg.cookie,
		Match:    openflow.NewMatch(openflow.OXMInPortVal(key.InPort)),
		Data:     data,
	}
	if arg.metadata != 0 {
		pi.Match.Add(openflow.OXMUint(openflow.OXMMetadata, arg.metadata))
	}
	if key.TunID != 0 {
		pi.Match.Add(openflow.OXMUint(openflow.OXMTunnelID, key.TunID))
	}
	if b.debug() {
		b.logPacketIn(pi, arg)
	}
	b.broadcast(asyncPacketIn, uint8(arg.reason), pi)
}
