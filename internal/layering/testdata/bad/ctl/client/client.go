// Package client is a flush outside the datapath: not an invalidation.
package client

type conn struct{}

func (c *conn) flush() {}

func (c *conn) send() { c.flush() }
