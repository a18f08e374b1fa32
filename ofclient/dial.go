package ofclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// Options say how Connect reaches a target.
type Options struct {
	// RunDir is the directory of the bridges' management sockets, for
	// targets that name a bridge ("" means DefaultRunDir).
	RunDir string
	// TLS is the configuration of ssl: targets (see TLSFiles.Config); an
	// ssl: target without it is an error.
	TLS *tls.Config
}

// Connect resolves target (see ParseTarget), dials it, performs the HELLO
// exchange, and bounds every later write by ctx's deadline, if it has one.
// A target that does not parse is reported as a *TargetError, so a command
// line tool can tell bad usage from an unreachable switch.
func Connect(ctx context.Context, target string, opt Options) (*Conn, error) {
	t, err := ParseTarget(target, opt.RunDir)
	if err != nil {
		return nil, &TargetError{err}
	}
	conn, err := DialTarget(ctx, t, opt.TLS)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			// "dial unix /run/goko/br0.mgmt: connect: no such file or
			// directory" says the path twice; keep the cause.
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				err = e
			}
			if t.Bridge != "" {
				return nil, fmt.Errorf("%s: cannot connect to %s: %v (is switchd running? --run-dir or GOKO_RUN_DIR set the socket directory)", t.Bridge, t.Addr, err)
			}
		}
		return nil, fmt.Errorf("connecting to %s: %v", t, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetWriteDeadline(dl)
	}
	return conn, nil
}

// TargetError is a target that does not parse.
type TargetError struct{ Err error }

func (e *TargetError) Error() string { return e.Err.Error() }
func (e *TargetError) Unwrap() error { return e.Err }

// DialTarget connects to t (with a TLS handshake for ssl: targets, which
// need tlsConf) and performs the HELLO exchange.
func DialTarget(ctx context.Context, t Target, tlsConf *tls.Config) (*Conn, error) {
	if !t.TLS {
		return Dial(ctx, t.Network, t.Addr)
	}
	if tlsConf == nil {
		return nil, fmt.Errorf("%s: ssl: targets need --private-key, --certificate and --ca-cert", t)
	}
	d := tls.Dialer{Config: tlsConf}
	nc, err := d.DialContext(ctx, t.Network, t.Addr)
	if err != nil {
		return nil, err
	}
	return handshake(ctx, nc)
}

// Dial connects to network/addr ("tcp" or "unix") and performs the HELLO
// exchange.
func Dial(ctx context.Context, network, addr string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return handshake(ctx, nc)
}

func handshake(ctx context.Context, nc net.Conn) (*Conn, error) {
	c, err := NewConn(ctx, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// Done is closed when the connection is gone (closed by either end, or
// broken): a long-lived client such as netctl's agent selects on it to
// reconnect.
func (c *Conn) Done() <-chan struct{} { return c.done }
