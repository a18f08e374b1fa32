package dpdk

/*
#include "goko_dpdk.h"

static uint16_t goko_refcnt(struct rte_mbuf *m) { return rte_mbuf_refcnt_read(m); }
static int goko_is_indirect(struct rte_mbuf *m) { return RTE_MBUF_CLONED(m) != 0; }
*/
import "C"

import "unsafe"

// Introspection used by the package's tests (cgo cannot be used in
// _test.go files). Not part of the API.

// mbufRefcnt returns the reference count of the mbuf buf.
func mbufRefcnt(buf unsafe.Pointer) int { return int(C.goko_refcnt((*C.struct_rte_mbuf)(buf))) }

// mbufIndirect reports whether buf is an indirect mbuf (a clone).
func mbufIndirect(buf unsafe.Pointer) bool {
	return C.goko_is_indirect((*C.struct_rte_mbuf)(buf)) != 0
}

// fillStashes tops up every tx queue's copy stash, so that MbufsInUse is
// comparable between two points of a test.
func (p *Port) fillStashes() {
	for _, q := range p.tx {
		C.goko_stash_refill(q.c)
	}
}
