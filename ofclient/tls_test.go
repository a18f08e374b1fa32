package ofclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goko-net/goko/openflow"
	"time"
)

// testCA signs certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial int64

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a key and a certificate for name, with no extended key
// usage (as ovs-pki makes them), and returns an TLSFiles that trusts ca.
func (ca *testCA) issue(t *testing.T, name string, trust *testCA) TLSFiles {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := TLSFiles{PrivateKey: filepath.Join(dir, "key.pem"), Certificate: filepath.Join(dir, "cert.pem"), CACert: filepath.Join(dir, "ca.pem")}
	for path, data := range map[string][]byte{
		s.PrivateKey:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		s.Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		s.CACert:      trust.pem,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestTLSMutualAuth: both ends must present a certificate that chains to
// the CA the other trusts; names are not checked.
func TestTLSMutualAuth(t *testing.T) {
	ca, rogue := newTestCA(t, "goko test CA"), newTestCA(t, "rogue CA")
	sw := ca.issue(t, "switch", ca)
	for _, tc := range []struct {
		name   string
		client *TLSFiles // nil: a client without a certificate
		ok     bool
	}{
		{"trusted controller", ptr(ca.issue(t, "controller", ca)), true},
		{"controller signed by another CA", ptr(rogue.issue(t, "controller", ca)), false},
		{"controller that does not trust the switch's CA", ptr(ca.issue(t, "controller", rogue)), false},
		{"controller without a certificate", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srvCfg, err := sw.Config()
			if err != nil {
				t.Fatal(err)
			}
			var cliCfg *tls.Config
			if tc.client != nil {
				if cliCfg, err = tc.client.Config(); err != nil {
					t.Fatal(err)
				}
			} else {
				cliCfg = &tls.Config{InsecureSkipVerify: true}
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			b, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			a, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			a.SetDeadline(time.Now().Add(5 * time.Second))
			srvErr := make(chan error, 1)
			go func() {
				s := tls.Server(a, srvCfg)
				err := s.Handshake()
				if err == nil {
					// TLS 1.3 finishes the client's side first; a read
					// makes the server's verdict reach the client.
					_, err = s.Write([]byte{1})
				}
				srvErr <- err
				a.Close()
			}()
			c := tls.Client(b, cliCfg)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			err = c.Handshake()
			if err == nil {
				_, err = c.Read(make([]byte, 1))
			}
			serr := <-srvErr
			if tc.ok && (err != nil || serr != nil) {
				t.Fatalf("handshake failed: client %v, switch %v", err, serr)
			}
			if !tc.ok && err == nil && serr == nil {
				t.Fatal("handshake succeeded")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestConnectSSL: Connect reaches an ssl: target with the client's key
// material, and refuses to try one without it.
func TestConnectSSL(t *testing.T) {
	ca := newTestCA(t, "goko test CA")
	srvCfg, err := ca.issue(t, "switch", ca).Config()
	if err != nil {
		t.Fatal(err)
	}
	cliCfg, err := ca.issue(t, "ofctl", ca).Config()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := openflow.Marshal(1, openflow.NewHello(openflow.Version))
		c.Write(b)
		openflow.ReadMessage(c, nil) // the client's HELLO
		raw, err := openflow.ReadMessage(c, nil)
		if err != nil {
			return
		}
		xid, _, _ := openflow.Decode(raw)
		b, _ = openflow.Marshal(xid, &openflow.EchoReply{})
		c.Write(b)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	target := "ssl:" + ln.Addr().String()
	if _, err := Connect(ctx, target, Options{}); err == nil || !strings.Contains(err.Error(), "--ca-cert") {
		t.Errorf("ssl: without key material: %v", err)
	}
	c, err := Connect(ctx, target, Options{TLS: cliCfg})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Echo(ctx, nil); err != nil {
		t.Errorf("echo over ssl: %v", err)
	}
	<-done
}
