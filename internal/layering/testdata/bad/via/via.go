// Package via imports the datapath.
package via

import _ "example.com/bad/datapath"
