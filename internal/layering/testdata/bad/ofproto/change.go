// Package ofproto has the one path and a call beside it.
package ofproto

import "example.com/bad/datapath"

type Bridge struct{ dp *datapath.Datapath }

func (b *Bridge) update() { b.dp.Revalidate(nil) }

func (b *Bridge) flowMod() { b.dp.Invalidate() }

// Invalidate is a second method of the name.
func (b *Bridge) Invalidate() {}
