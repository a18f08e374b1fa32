// Command ofctl manages a goko switch over OpenFlow 1.3 the way
// `ovs-ofctl -O OpenFlow13` manages Open vSwitch: it shows the switch,
// dumps and edits flows, and dumps ports and tables. See package
// github.com/goko-net/goko/ctl, or run "ofctl --help".
package main

import (
	"os"

	"github.com/goko-net/goko/ctl"
)

func main() {
	os.Exit(ctl.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
