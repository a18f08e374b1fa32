package ofclient

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultRunDir is where switchd puts the management sockets when
// neither --run-dir nor GOKO_RUN_DIR says otherwise.
const DefaultRunDir = "/run/goko"

// Target is where a client connects.
type Target struct {
	Network string // "tcp" or "unix"
	Addr    string // host:port or socket path
	Bridge  string // the bridge name, when the target named one
	TLS     bool   // ssl: TLS over TCP, with certificates on both ends
}

func (t Target) String() string {
	switch {
	case t.Network == "unix":
		return "unix:" + t.Addr
	case t.TLS:
		return "ssl:" + t.Addr
	}
	return t.Network + ":" + t.Addr
}

// ParseTarget resolves a switch target:
//
//   - "tcp:HOST[:PORT]": TCP, port 6653 by default ("tcp:[::1]:6653" for
//     IPv6);
//   - "ssl:HOST[:PORT]": the same over TLS (see [TLSFiles]);
//   - "unix:PATH": a Unix socket;
//   - a bridge name: the bridge's management socket runDir/NAME.mgmt;
//   - anything with a '/' in it: a Unix socket path.
func ParseTarget(s, runDir string) (Target, error) {
	switch {
	case s == "":
		return Target{}, fmt.Errorf("empty target")
	case strings.HasPrefix(s, "tcp:"), strings.HasPrefix(s, "ssl:"):
		hp := s[len("tcp:"):]
		if hp == "" {
			return Target{}, fmt.Errorf("target %q: missing host", s)
		}
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			// No port: "tcp:10.0.0.1" or "tcp:[::1]" or "tcp:::1".
			host, port = strings.TrimSuffix(strings.TrimPrefix(hp, "["), "]"), "6653"
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return Target{}, fmt.Errorf("target %q: bad port %q", s, port)
		}
		return Target{Network: "tcp", Addr: net.JoinHostPort(host, port), TLS: strings.HasPrefix(s, "ssl:")}, nil
	case strings.HasPrefix(s, "unix:"):
		if len(s) == len("unix:") {
			return Target{}, fmt.Errorf("target %q: missing socket path", s)
		}
		return Target{Network: "unix", Addr: s[len("unix:"):]}, nil
	case strings.HasPrefix(s, "ptcp:"), strings.HasPrefix(s, "punix:"), strings.HasPrefix(s, "pssl:"):
		return Target{}, fmt.Errorf("target %q: only tcp:, ssl:, unix: and bridge names are supported", s)
	case strings.ContainsRune(s, '/'):
		return Target{Network: "unix", Addr: s}, nil
	}
	if runDir == "" {
		runDir = DefaultRunDir
	}
	return Target{Network: "unix", Addr: filepath.Join(runDir, s+".mgmt"), Bridge: s}, nil
}
