package datapath

type pmd struct{ cache flowCache }

func (p *pmd) poll()       { p.cache.flush() }
func (p *pmd) revalidate() { p.cache.dropIf(nil) }
