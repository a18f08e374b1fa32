// Package netctl uses the CLI package.
package netctl

import _ "example.com/bad/ctl/client"
