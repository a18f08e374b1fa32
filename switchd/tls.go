package switchd

import "github.com/goko-net/goko/ofclient"

// SSLConfig names the key material of ssl: and pssl: connections (see
// ofclient/tls.go: switchd and the clients share one TLS policy, both ends
// authenticated against --ca-cert, host names not compared).
type SSLConfig = ofclient.TLSFiles
