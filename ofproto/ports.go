package ofproto

// Ports: adding and removing them, their link state, their description
// (PORT_DESC, PORT_STATUS) and PORT_MOD. Every change goes through
// Bridge.update (change.go), and controllers hear of it by PORT_STATUS
// after the change is in place.

import (
	"fmt"
	"sort"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// port is one OpenFlow port of the bridge: its datapath port and the
// configuration controllers set.
type port struct {
	no     uint32
	dp     datapath.Port
	config openflow.PortConfig
	linkUp bool // last link state reported to controllers
}

// AddPort attaches a datapath port as OpenFlow port no (0: the lowest free
// number) and announces it to controllers. It returns the number used.
func (b *Bridge) AddPort(no uint32, p datapath.Port) (uint32, error) {
	var desc openflow.Port
	err := b.update(func(tx *txn) error {
		if no == 0 {
			for no = 1; b.ports[no] != nil; no++ {
			}
		}
		if no > openflow.PortMax {
			return fmt.Errorf("add port %q: number %d above OFPP_MAX", p.Info().Name, no)
		}
		if b.ports[no] != nil {
			return fmt.Errorf("add port %q: number %d already used by %q", p.Info().Name, no, b.ports[no].dp.Info().Name)
		}
		if err := b.dp.AddPort(no, p); err != nil {
			return err
		}
		pt := &port{no: no, dp: p, linkUp: p.Info().LinkUp}
		tx.addPort(pt)
		desc = b.portDesc(pt)
		return nil
	})
	if err != nil {
		return 0, err
	}
	b.broadcastPortStatus(openflow.PortReasonAdd, desc)
	return no, nil
}

// RemovePort detaches and closes port no.
func (b *Bridge) RemovePort(no uint32) error {
	var desc openflow.Port
	err := b.update(func(tx *txn) error {
		pt := b.ports[no]
		if pt == nil {
			return fmt.Errorf("remove port %d: no such port", no)
		}
		desc = b.portDesc(pt)
		tx.removePort(no)
		// The datapath waits until no pmd uses the port: not under mu,
		// which a pmd may be waiting for in a translation.
		return b.dp.RemovePort(no)
	})
	if desc.PortNo == 0 {
		return err
	}
	b.broadcastPortStatus(openflow.PortReasonDelete, desc)
	return err
}

func sortPorts(list []*port) {
	sort.Slice(list, func(i, j int) bool { return list[i].no < list[j].no })
}

func (b *Bridge) checkLinks() {
	var changed []openflow.Port
	b.update(func(tx *txn) error {
		for _, p := range b.portList {
			if up := p.dp.Info().LinkUp; up != p.linkUp {
				// Fast-failover and select groups watch link state.
				tx.setLink(p, up)
				changed = append(changed, b.portDesc(p))
			}
		}
		return nil
	})
	for _, d := range changed {
		b.log.Info("port link changed", "port", d.PortNo, "name", d.Name, "state", d.State)
		b.broadcastPortStatus(openflow.PortReasonModify, d)
	}
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
