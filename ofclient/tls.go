package ofclient

// TLS on OpenFlow channels (ssl: and pssl: targets), for both ends: ofctl
// and netctl dial ssl: switches with it, and switchd uses it for its
// ssl: controllers and pssl: listeners.
//
// Both directions authenticate both ends, as Open vSwitch does: each end
// presents its certificate (--certificate, --private-key) and requires the
// peer's, and each side accepts a peer whose certificate chains to the CA
// certificate (--ca-cert). Host names are not compared with the
// certificate, again as in OVS: switches and controllers are usually
// reached by address, and the CA is the trust decision. So the standard
// library's name check is replaced by a chain check of our own
// (VerifyConnection) on both sides.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles names the key material of ssl: and pssl: connections, with
// Open vSwitch's option names.
type TLSFiles struct {
	PrivateKey  string `yaml:"private-key"` // PEM private key of this end
	Certificate string `yaml:"certificate"` // PEM certificate of this end, signed by a CA the peers trust
	CACert      string `yaml:"ca-cert"`     // PEM certificate(s) of the CA that signs the peers' certificates
}

// Empty reports whether no file is named.
func (s TLSFiles) Empty() bool { return s.PrivateKey == "" && s.Certificate == "" && s.CACert == "" }

// Validate checks that the three files are named.
func (s TLSFiles) Validate() error {
	var missing []string
	if s.PrivateKey == "" {
		missing = append(missing, "--private-key")
	}
	if s.Certificate == "" {
		missing = append(missing, "--certificate")
	}
	if s.CACert == "" {
		missing = append(missing, "--ca-cert")
	}
	if len(missing) > 0 {
		return fmt.Errorf("ssl: and pssl: need --private-key, --certificate and --ca-cert; missing %v", missing)
	}
	return nil
}

// Config loads the key material into a configuration for both the server
// (pssl:) and the client (ssl:) side.
func (s TLSFiles) Config() (*tls.Config, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(s.Certificate, s.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s and key %s: %w", s.Certificate, s.PrivateKey, err)
	}
	pem, err := os.ReadFile(s.CACert)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA certificate %s: no PEM certificate in it", s.CACert)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// Server side: a client certificate is required; it is checked
		// below. Client side: the server's certificate is checked below
		// instead of by name.
		ClientAuth:         tls.RequireAnyClientCert,
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeer(roots, cs.PeerCertificates)
		},
	}, nil
}

// verifyPeer accepts a peer whose certificate chains to roots.
func verifyPeer(roots *x509.CertPool, chain []*x509.Certificate) error {
	if len(chain) == 0 {
		return errors.New("peer sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		// Certificates made by ovs-pki carry no extended key usage, or
		// only one of the two: either end may present either.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("peer certificate %q: %w", chain[0].Subject, err)
	}
	return nil
}
