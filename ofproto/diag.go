package ofproto

// goko's diagnostic multipart requests (openflow/goko_diag.go): packet
// traces, megaflow dumps, pmd counters and the log level.

import (
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// gokoDiag answers a diagnostic request with the parts of its JSON reply.
func (c *Conn) gokoDiag(body *openflow.MultipartExperimenterBody) ([][]byte, error) {
	b := c.b
	var doc any
	switch body.ExpType {
	case openflow.GokoMPTrace:
		var req openflow.GokoTraceRequest
		if err := req.Unmarshal(body.Data); err != nil {
			return nil, gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		t, err := b.Trace(req.InPort, req.Packet)
		if err != nil {
			return nil, err
		}
		doc = t
	case openflow.GokoMPMegaflows:
		flows, err := b.dp.DumpMegaflows()
		if err != nil {
			return nil, gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		now := time.Now().UnixNano()
		out := make([]openflow.GokoMegaflow, 0, len(flows))
		for i := range flows {
			f := &flows[i]
			used := int64(-1)
			if f.Used != 0 {
				used = max(now-f.Used, 0) / 1e6
			}
			out = append(out, openflow.GokoMegaflow{PMD: f.PMD, Key: datapath.FormatKey(&f.Key, &f.Mask),
				Filters: datapath.FormatFilters(f.Filters), Actions: datapath.FormatActions(f.Actions),
				Packets: f.Packets, Bytes: f.Bytes, UsedMs: used})
		}
		doc = out
	case openflow.GokoMPPMDStats:
		var out []openflow.GokoPMDStats
		for _, s := range b.dp.PMDStats() {
			out = append(out, openflow.GokoPMDStats{PMD: s.PMD, Packets: s.Packets, EMCHits: s.EMCHits,
				MegaflowHits: s.MegaflowHits, Misses: s.Misses, Upcalls: s.Upcalls, LostUpcalls: s.LostUpcalls,
				Megaflows: s.Megaflows})
		}
		doc = out
	case openflow.GokoMPLogLevel:
		lv := b.cfg.LogLevel
		if lv == nil {
			return nil, gokoErr(openflow.GokoErrUnsupported, "this switch's log level cannot be changed")
		}
		if want := strings.TrimSpace(string(body.Data)); want != "" {
			if !c.management() {
				return nil, openflow.Errorf(openflow.BRCEperm, "the log level can only be changed through the management socket")
			}
			var l slog.Level
			if err := l.UnmarshalText([]byte(strings.ToLower(want))); err != nil {
				return nil, gokoErr(openflow.GokoErrBadRequest, "log level %q: want debug, info, warn or error", want)
			}
			old := lv.Level()
			lv.Set(l)
			b.log.Info("log level changed", "from", old.String(), "to", l.String())
		}
		doc = openflow.GokoLogLevel{Level: strings.ToLower(lv.Level().String())}
	default:
		return nil, openflow.Errorf(openflow.BRCBadExpType, "unknown goko multipart type %d", body.ExpType)
	}
	parts, err := openflow.GokoJSONParts(doc)
	if err != nil {
		return nil, gokoErr(openflow.GokoErrBadRequest, "encoding the reply: %v", err)
	}
	return parts, nil
}

// management reports whether the connection came in on the bridge's
// management socket.
func (c *Conn) management() bool {
	a, ok := c.nc.LocalAddr().(*net.UnixAddr)
	return ok && c.b.cfg.ManagementSocket != "" && a.Name == c.b.cfg.ManagementSocket
}
