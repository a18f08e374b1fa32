package ctl

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/openflow"
)

// goko's filter programs: load-filter-prog, unload-filter-prog,
// dump-filter-progs, dump-map, update-map, delete-map-entry
// (docs/openflow-extensions.md).

func parseProgID(s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "prog="), 0, 32)
	if err != nil {
		return 0, usageErr("%q is not a filter program id (0 to 4294967295)", s)
	}
	return uint32(v), nil
}

// FormatFilterProgLoaded prints the FILTER_PROG_LOADED summary.
func FormatFilterProgLoaded(p *openflow.GokoFilterProgInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "filter program %d loaded: name=%s insns=%d maps=%d\n", p.ProgID, p.Name, p.InsnCount, len(p.Maps))
	for _, m := range p.Maps {
		fmt.Fprintf(&b, "  map %s: type=%s key_size=%d value_size=%d max_entries=%d entries=%d\n",
			m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Entries)
	}
	return b.String()
}

func (c *cli) loadFilterProg(args []string) error {
	id, err := parseProgID(args[1])
	if err != nil {
		return err
	}
	obj, err := os.ReadFile(args[2])
	if err != nil {
		return usageErr("%v", err)
	}
	if len(obj) == 0 || uint64(len(obj)) > 0xffffffff {
		return usageErr("%s: %d bytes is not a loadable object", args[2], len(obj))
	}
	if len(c.progName) > 0xffff {
		return usageErr("--prog: name too long")
	}
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	xids, err := conn.SendLoadFilterProg(id, c.progName, obj, c.runBudget)
	if err != nil {
		return err
	}
	replies, errs, err := conn.Transact(c.ctx, xids)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return c.reportSwitchErrors("load-filter-prog", errs)
	}
	for _, m := range replies {
		e, ok := m.(*openflow.Experimenter)
		if !ok || e.Experimenter != openflow.GokoExperimenter || e.ExpType != openflow.GokoFilterProgLoaded {
			continue
		}
		var list openflow.GokoFilterProgList
		if err := list.Unmarshal(e.Data); err != nil || len(list.Progs) == 0 {
			return fmt.Errorf("bad FILTER_PROG_LOADED reply: %v", err)
		}
		if c.json {
			return c.printJSON(jsonProgs(list.Progs)[0])
		}
		fmt.Fprint(c.out, FormatFilterProgLoaded(&list.Progs[0]))
		return nil
	}
	return errors.New("the switch confirmed the load without a FILTER_PROG_LOADED reply")
}

// reportSwitchErrors prints every error but the last and returns the last.
func (c *cli) reportSwitchErrors(what string, errs []*ofclient.SwitchError) error {
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintf(c.errw, "ofctl: %v\n", c.requestErr(what, "", e))
	}
	return c.requestErr(what, "", errs[len(errs)-1])
}

func (c *cli) unloadFilterProg(args []string) error {
	id, err := parseProgID(args[1])
	if err != nil {
		return err
	}
	return c.gokoSimple(args[0], "unload-filter-prog", ofclient.GokoMessage(openflow.GokoUnloadFilterProg, (&openflow.GokoProgRef{ProgID: id}).Marshal()))
}

// gokoSimple sends one goko message that has no reply of its own and
// waits for the barrier.
func (c *cli) gokoSimple(target, what string, m openflow.Message) error {
	conn, err := c.dial(target)
	if err != nil {
		return err
	}
	defer conn.Close()
	return c.gokoSend(conn, what, m)
}

func (c *cli) gokoSend(conn *ofclient.Conn, what string, m openflow.Message) error {
	xid, err := conn.Send(m)
	if err != nil {
		return err
	}
	_, errs, err := conn.Transact(c.ctx, []uint32{xid})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return c.reportSwitchErrors(what, errs)
	}
	return nil
}

// filterProgs fetches the descriptions of program id (GokoAllProgs: all).
func (c *cli) filterProgs(conn *ofclient.Conn, id uint32) ([]openflow.GokoFilterProgInfo, error) {
	progs, err := conn.FilterProgs(c.ctx, id)
	if err != nil {
		return nil, c.requestErr("filter programs request", "", err)
	}
	return progs, nil
}

func avgNs(p *openflow.GokoFilterProgInfo) string {
	if p.Runs == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(p.RunNs)/float64(p.Runs), 'f', 1, 64)
}

// FormatFilterProgs prints programs as dump-filter-progs does: a table of
// programs, then a table of their maps.
func FormatFilterProgs(progs []openflow.GokoFilterProgInfo) string {
	var b strings.Builder
	if len(progs) == 0 {
		return "no filter programs loaded\n"
	}
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tINSNS\tMAPS\tRUNS\tMATCHES\tERRORS\tNS/RUN")
	for i := range progs {
		p := &progs[i]
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", p.ProgID, p.Name, p.InsnCount, len(p.Maps), p.Runs, p.Matches, p.Errors, avgNs(p))
	}
	tw.Flush()
	n := 0
	for _, p := range progs {
		n += len(p.Maps)
	}
	if n == 0 {
		return b.String()
	}
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PROG\tMAP\tTYPE\tKEY_SIZE\tVALUE_SIZE\tENTRIES\tMAX_ENTRIES")
	for _, p := range progs {
		for _, m := range p.Maps {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d\n", p.ProgID, m.Name, m.Type, m.KeySize, m.ValueSize, m.Entries, m.MaxEntries)
		}
	}
	tw.Flush()
	return b.String()
}

func (c *cli) dumpFilterProgs(args []string) error {
	id := openflow.GokoAllProgs
	if len(args) > 1 {
		var err error
		if id, err = parseProgID(args[1]); err != nil {
			return err
		}
	}
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	progs, err := c.filterProgs(conn, id)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(jsonProgs(progs))
	}
	fmt.Fprint(c.out, FormatFilterProgs(progs))
	return nil
}

// formatMapBytes prints a key or value: decimal for 1, 2, 4 and 8 bytes
// (little-endian, as a program reads them on x86 and arm64) unless
// hexOnly, else 0x and the bytes in hex, as update-map reads them.
func formatMapBytes(b []byte, hexOnly bool) string {
	if !hexOnly {
		switch len(b) {
		case 1:
			return strconv.Itoa(int(b[0]))
		case 2:
			return strconv.Itoa(int(binary.LittleEndian.Uint16(b)))
		case 4:
			return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10)
		case 8:
			return strconv.FormatUint(binary.LittleEndian.Uint64(b), 10)
		}
	}
	if len(b) == 0 {
		return "0x"
	}
	return "0x" + hex.EncodeToString(b)
}

func formatMapEntries(entries []openflow.GokoMapEntry, hexOnly bool) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, " key=%s value=%s\n", formatMapBytes(e.Key, hexOnly), formatMapBytes(e.Value, hexOnly))
	}
	return b.String()
}

// FormatMapDump prints a map as dump-map does:
//
//	prog=1 map=counters entries=2
//	 key=1 value=100
//	 key=0x0a000001000000 value=5
func FormatMapDump(d *openflow.GokoMapDump, hexOnly bool) string {
	return fmt.Sprintf("prog=%d map=%s entries=%d\n", d.ProgID, d.Map, len(d.Entries)) + formatMapEntries(d.Entries, hexOnly)
}

func (c *cli) dumpMap(args []string) error {
	id, err := parseProgID(args[1])
	if err != nil {
		return err
	}
	ref := openflow.GokoMapRef{ProgID: id, Map: args[2]}
	bodies, _, err := c.query(args[0], "map dump request", 0, ofclient.GokoMultipart(openflow.GokoMPMap, ref.Marshal()))
	if err != nil {
		return err
	}
	all := openflow.GokoMapDump{ProgID: id, Map: args[2]}
	for _, b := range bodies {
		var d openflow.GokoMapDump
		if err := d.Unmarshal(b.(*openflow.MultipartExperimenterBody).Data); err != nil {
			return fmt.Errorf("bad map dump reply: %w", err)
		}
		all.Entries = append(all.Entries, d.Entries...)
	}
	if c.json {
		return c.printJSON(struct {
			Prog    uint32         `json:"prog"`
			Map     string         `json:"map"`
			Entries []jsonMapEntry `json:"entries"`
		}{id, args[2], jsonMapEntries(all.Entries)})
	}
	fmt.Fprint(c.out, FormatMapDump(&all, c.hex))
	return nil
}

// mapInfo looks up a map's description (for the sizes of keys and
// values written in decimal).
func (c *cli) mapInfo(conn *ofclient.Conn, prog uint32, name string) (*openflow.GokoMapInfo, error) {
	progs, err := c.filterProgs(conn, prog)
	if err != nil {
		return nil, err
	}
	for _, p := range progs {
		if p.ProgID != prog {
			continue
		}
		for i := range p.Maps {
			if p.Maps[i].Name == name {
				return &p.Maps[i], nil
			}
		}
		return nil, &exitError{ExitFailed, fmt.Errorf("filter program %d has no map %q", prog, name)}
	}
	return nil, &exitError{ExitFailed, fmt.Errorf("no filter program %d", prog)}
}

// ParseMapBytes parses a map key or value:
//
//   - 0xHEX: the bytes as written ("0x0a000001" is 0a 00 00 01);
//   - hex bytes separated by spaces or colons: "0a 00 00 01", "0a:00:00:01";
//   - TYPE:VALUE, where TYPE is u8, u16, u32, u64 (little-endian, as the
//     program reads them), be16, be32, be64 (network order), ip (IPv4,
//     4 bytes), ip6 (16 bytes), mac (6 bytes), lpm (an LPM trie key:
//     u32 prefix length then the address, "lpm:10.0.0.0/8") or str (the
//     text's bytes);
//   - a decimal number: little-endian, size bytes wide (the map's key or
//     value size);
//   - an IPv4 address: 4 bytes in network order.
//
// Several TYPE:VALUE parts joined by commas are concatenated
// ("u32:1,ip:10.0.0.1"). size is the expected length (0: unknown); the
// result must have that length.
func ParseMapBytes(s string, size int) ([]byte, error) {
	s = strings.TrimSpace(s)
	b, err := parseMapBytes(s, size)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	if size > 0 && len(b) != size {
		return nil, fmt.Errorf("%q is %d bytes, the map wants %d", s, len(b), size)
	}
	return b, nil
}

func parseMapBytes(s string, size int) ([]byte, error) {
	switch {
	case s == "":
		return nil, errors.New("empty")
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		h := s[2:]
		if len(h)%2 == 1 {
			h = "0" + h
		}
		return hex.DecodeString(h)
	case strings.ContainsAny(s, " \t") || (strings.Contains(s, ":") && !strings.Contains(s, ",") && isHexList(s)):
		var out []byte
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ':' }) {
			v, err := strconv.ParseUint(f, 16, 8)
			if err != nil {
				return nil, fmt.Errorf("%q is not a hex byte", f)
			}
			out = append(out, byte(v))
		}
		return out, nil
	case strings.Contains(s, ":"):
		var out []byte
		for _, part := range strings.Split(s, ",") {
			b, err := parseTyped(part)
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
		}
		return out, nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		b := a.As4()
		return b[:], nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, errors.New("not a number, an IPv4 address, 0xHEX, hex bytes or TYPE:VALUE")
	}
	switch size {
	case 0:
		return nil, errors.New("give the width (u32:N, u64:N, ...)")
	case 1, 2, 4, 8:
		if size < 8 && v>>(8*size) != 0 {
			return nil, fmt.Errorf("%d does not fit in %d bytes", v, size)
		}
		b := binary.LittleEndian.AppendUint64(nil, v)
		return b[:size], nil
	}
	return nil, fmt.Errorf("the map's %d-byte keys or values cannot be written as a number; use 0xHEX or TYPE:VALUE parts", size)
}

func isHexList(s string) bool {
	for _, f := range strings.Split(s, ":") {
		if len(f) == 0 || len(f) > 2 {
			return false
		}
		if _, err := strconv.ParseUint(f, 16, 8); err != nil {
			return false
		}
	}
	return true
}

func parseTyped(s string) ([]byte, error) {
	typ, v, _ := strings.Cut(s, ":")
	uint := func(bits int) (uint64, error) {
		n, err := strconv.ParseUint(v, 0, bits)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a %d-bit unsigned number", typ, v, bits)
		}
		return n, nil
	}
	switch typ {
	case "u8":
		n, err := uint(8)
		return []byte{byte(n)}, err
	case "u16":
		n, err := uint(16)
		return binary.LittleEndian.AppendUint16(nil, uint16(n)), err
	case "u32":
		n, err := uint(32)
		return binary.LittleEndian.AppendUint32(nil, uint32(n)), err
	case "u64":
		n, err := uint(64)
		return binary.LittleEndian.AppendUint64(nil, n), err
	case "be16":
		n, err := uint(16)
		return binary.BigEndian.AppendUint16(nil, uint16(n)), err
	case "be32":
		n, err := uint(32)
		return binary.BigEndian.AppendUint32(nil, uint32(n)), err
	case "be64":
		n, err := uint(64)
		return binary.BigEndian.AppendUint64(nil, n), err
	case "ip", "ip6":
		a, err := netip.ParseAddr(v)
		if err != nil || (typ == "ip") != a.Is4() {
			return nil, fmt.Errorf("%s: %q is not an %s address", typ, v, map[string]string{"ip": "IPv4", "ip6": "IPv6"}[typ])
		}
		return a.AsSlice(), nil
	case "mac":
		var mac []byte
		for _, f := range strings.Split(v, ":") {
			x, err := strconv.ParseUint(f, 16, 8)
			if err != nil || len(f) == 0 {
				return nil, fmt.Errorf("mac: %q is not an Ethernet address", v)
			}
			mac = append(mac, byte(x))
		}
		if len(mac) != 6 {
			return nil, fmt.Errorf("mac: %q is not an Ethernet address", v)
		}
		return mac, nil
	case "lpm":
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, fmt.Errorf("lpm: %q is not a prefix such as 10.0.0.0/8", v)
		}
		return append(binary.LittleEndian.AppendUint32(nil, uint32(p.Bits())), p.Addr().AsSlice()...), nil
	case "str":
		return []byte(v), nil
	}
	return nil, fmt.Errorf("unknown type %q (want u8, u16, u32, u64, be16, be32, be64, ip, ip6, mac, lpm or str)", typ)
}

var mapFlags = map[string]uint32{"any": openflow.GokoMapAny, "noexist": openflow.GokoMapNoExist, "exist": openflow.GokoMapExist}

func (c *cli) updateMap(args []string) error {
	return c.mapUpdate(args, false)
}

func (c *cli) deleteMapEntry(args []string) error {
	return c.mapUpdate(args, true)
}

func (c *cli) mapUpdate(args []string, del bool) error {
	id, err := parseProgID(args[1])
	if err != nil {
		return err
	}
	flags, ok := mapFlags[strings.ToLower(c.mapFlags)]
	if !ok {
		return usageErr("--flags %q: want any, noexist or exist", c.mapFlags)
	}
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	// Sizes, for numbers written in decimal and for early errors.
	mi, err := c.mapInfo(conn, id, args[2])
	if err != nil {
		return err
	}
	keySize, valueSize := int(mi.KeySize), int(mi.ValueSize)
	key, err := ParseMapBytes(args[3], keySize)
	if err != nil {
		return usageErr("key: %v", err)
	}
	u := openflow.GokoMapUpdate{ProgID: id, Map: args[2], Key: key}
	t, what := openflow.GokoUpdateMap, "update-map"
	if del {
		t, what = openflow.GokoDeleteMapEntry, "delete-map-entry"
	} else {
		if u.Value, err = ParseMapBytes(args[4], valueSize); err != nil {
			return usageErr("value: %v", err)
		}
		u.Flags = flags
	}
	return c.gokoSend(conn, what, ofclient.GokoMessage(t, u.Marshal()))
}

// JSON forms.

type jsonMapEntry struct {
	Key      string  `json:"key"`
	Value    string  `json:"value"`
	KeyInt   *uint64 `json:"key_int,omitempty"`
	ValueInt *uint64 `json:"value_int,omitempty"`
}

func leInt(b []byte) *uint64 {
	switch len(b) {
	case 1, 2, 4, 8:
		var buf [8]byte
		copy(buf[:], b)
		v := binary.LittleEndian.Uint64(buf[:])
		return &v
	}
	return nil
}

func jsonMapEntries(entries []openflow.GokoMapEntry) []jsonMapEntry {
	out := []jsonMapEntry{}
	for _, e := range entries {
		out = append(out, jsonMapEntry{Key: hex.EncodeToString(e.Key), Value: hex.EncodeToString(e.Value),
			KeyInt: leInt(e.Key), ValueInt: leInt(e.Value)})
	}
	return out
}

type jsonMapInfo struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	KeySize    uint32 `json:"key_size"`
	ValueSize  uint32 `json:"value_size"`
	MaxEntries uint32 `json:"max_entries"`
	Entries    uint32 `json:"entries"`
}

type jsonProg struct {
	ID        uint32        `json:"id"`
	Name      string        `json:"name"`
	InsnCount uint32        `json:"insn_count"`
	Runs      uint64        `json:"runs"`
	Matches   uint64        `json:"matches"`
	Errors    uint64        `json:"errors"`
	RunNs     uint64        `json:"run_ns"`
	AvgNs     *float64      `json:"avg_ns,omitempty"`
	Maps      []jsonMapInfo `json:"maps"`
}

func jsonProgs(progs []openflow.GokoFilterProgInfo) []jsonProg {
	out := []jsonProg{}
	for _, p := range progs {
		j := jsonProg{ID: p.ProgID, Name: p.Name, InsnCount: p.InsnCount, Runs: p.Runs, Matches: p.Matches,
			Errors: p.Errors, RunNs: p.RunNs, Maps: []jsonMapInfo{}}
		if p.Runs > 0 {
			j.AvgNs = ptr(float64(p.RunNs) / float64(p.Runs))
		}
		for _, m := range p.Maps {
			j.Maps = append(j.Maps, jsonMapInfo{m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Entries})
		}
		out = append(out, j)
	}
	return out
}
