package netctl

import (
	"fmt"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// EmbeddedEtcd is a single-member etcd server inside the process, for a
// single machine or a test: `netctl etcd` runs one under the state
// directory, and agents and commands reach it like any cluster.
type EmbeddedEtcd struct {
	e *embed.Etcd
	// Endpoint is the client URL to give DialEtcd.
	Endpoint string
}

// StartEmbeddedEtcd starts a one-member cluster with its data in dir,
// serving clients on clientURL and its peer port on peerURL (both
// http://HOST:PORT; port 0 is not supported by etcd).
func StartEmbeddedEtcd(dir, clientURL, peerURL string) (*EmbeddedEtcd, error) {
	cu, err := url.Parse(clientURL)
	if err != nil {
		return nil, fmt.Errorf("client url %q: %w", clientURL, err)
	}
	pu, err := url.Parse(peerURL)
	if err != nil {
		return nil, fmt.Errorf("peer url %q: %w", peerURL, err)
	}
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.Name = "netctl"
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	// etcd logs its own shutdown as errors; netctl reports what fails
	// through StartEmbeddedEtcd's error and Err.
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	// Leases as short as one second, so that a standby agent takes over
	// quickly (etcd's minimum lease is 1.5 election timeouts).
	cfg.TickMs, cfg.ElectionMs = 50, 500
	// One change may touch many keys (a group deleted from every NIC).
	cfg.MaxTxnOps, cfg.MaxRequestBytes = 16384, 16<<20
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, fmt.Errorf("etcd in %s did not become ready", dir)
	}
	return &EmbeddedEtcd{e: e, Endpoint: cu.String()}, nil
}

// Close stops the server.
func (s *EmbeddedEtcd) Close() { s.e.Close() }

// Err reports the server's fatal errors.
func (s *EmbeddedEtcd) Err() <-chan error { return s.e.Err() }
