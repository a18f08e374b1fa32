// Package datapath declares the invalidation methods.
package datapath

type Datapath struct{}

func (dp *Datapath) Invalidate() { dp.Revalidate(nil) }

func (dp *Datapath) Revalidate(func() bool) {}

func (dp *Datapath) publish() { dp.Invalidate() }
