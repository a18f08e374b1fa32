// Package openflow reaches the datapath through another package.
package openflow

import _ "example.com/bad/via"
