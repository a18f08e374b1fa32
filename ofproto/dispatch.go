package ofproto

// Request dispatch: each request a connection reads is handled here, in
// order, and its failure becomes an ERROR reply to the peer (a goko
// failure an experimenter error carrying its reason as text). Requests
// that change state are refused from a slave controller before anything
// else looks at them.

import (
	"errors"
	"fmt"

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
