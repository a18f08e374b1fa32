/*
 * goko_dpdk.h: the C half of goko's DPDK binding.
 *
 * DPDK's fast-path API is made of static inline functions and macros that
 * cgo cannot call, and a cgo call costs tens of nanoseconds. So every helper
 * here does a whole burst per call: the Go side fills or reads parallel
 * arrays that live in C memory (struct goko_rxq / goko_txq), never passes a
 * Go pointer, and makes exactly one cgo call per Recv, Send or Release.
 */
#ifndef GOKO_DPDK_H
#define GOKO_DPDK_H

#include <stdint.h>
#include <rte_config.h>
#include <rte_mbuf.h>

/* Largest burst one helper call handles; Go loops for larger slices. */
#define GOKO_MAX_BURST 256
/* Pre-allocated mbufs per tx queue for the copy path (Buf == nil). */
#define GOKO_STASH 64

/* Kinds of a tx slot, set by Go before goko_tx. */
enum {
	GOKO_TX_DROP = 0, /* count as a drop, nothing to free */
	GOKO_TX_ZC = 1,   /* zero copy: mbufs[i] with view off[i], len[i] */
	GOKO_TX_COPY = 2, /* mbufs[i] is a stash mbuf Go has copied len[i] bytes into */
	GOKO_TX_ZC_OWN = 3, /* as ZC, and the caller's reference passes to the device */
};

struct goko_rxq {
	uint16_t port, queue;
	uint64_t drops; /* multi-segment frames that could not be linearized */
	struct rte_mbuf *mbufs[GOKO_MAX_BURST];
	void *addr[GOKO_MAX_BURST];
	uint16_t len[GOKO_MAX_BURST];
	struct rte_mbuf *rel[GOKO_MAX_BURST]; /* Release scratch */
};

struct goko_txq {
	uint16_t port, queue;
	struct rte_mempool *pool;
	uint64_t drops;   /* written by C with atomics, read by Go Stats */
	uint32_t stash_n; /* Go consumes from the top, C refills */
	uint8_t kind[GOKO_MAX_BURST];
	uint16_t len[GOKO_MAX_BURST];
	uint32_t off[GOKO_MAX_BURST];
	struct rte_mbuf *mbufs[GOKO_MAX_BURST];
	struct rte_mbuf *out[GOKO_MAX_BURST];
	/* consume mode: the caller's references to free after the burst */
	uint16_t nfree;
	struct rte_mbuf *free[GOKO_MAX_BURST];
	struct rte_mbuf *stash[GOKO_STASH];
	void *stash_data[GOKO_STASH];
};

/* EAL */
int goko_eal_init(int argc, char **argv);
int goko_errno(void);
unsigned goko_lcore_id(void);
int goko_thread_register(void);
void goko_thread_unregister(void);
int goko_setns(int fd);
int goko_xdp_detach(const char *ifname);

/* mempool */
struct rte_mempool *goko_pool_create(const char *name, unsigned n, unsigned cache,
				     unsigned data_room, uintptr_t *lo, uintptr_t *hi);
unsigned goko_pool_avail(struct rte_mempool *mp);
unsigned goko_pool_in_use(struct rte_mempool *mp);

/* ports */
int goko_port_probe(const char *devargs, const char *name, uint16_t *port_id);
int goko_port_setup(uint16_t port, uint16_t nrxq, uint16_t ntxq, uint16_t nrxd,
		    uint16_t ntxd, struct rte_mempool *pool, int promisc, int mtu,
		    int *stage);
int goko_port_close(uint16_t port, int remove);
int goko_port_info(uint16_t port, uint8_t mac[6], uint16_t *mtu, int *up,
		   uint32_t *speed, char *name, int namelen);
int goko_port_stats(uint16_t port, uint64_t out[8]);

struct goko_rxq *goko_rxq_new(uint16_t port, uint16_t queue, int socket);
struct goko_txq *goko_txq_new(uint16_t port, uint16_t queue, int socket,
			      struct rte_mempool *pool);
void goko_rxq_free(struct goko_rxq *q);
void goko_txq_free(struct goko_txq *q);

/* fast path: one call per burst */
uint16_t goko_rx(struct goko_rxq *q, uint16_t n);
uint16_t goko_tx(struct goko_txq *q, uint16_t n, int consume);
void goko_release(struct goko_rxq *q, uint16_t n);
void goko_stash_refill(struct goko_txq *q);
unsigned goko_stash_room(struct goko_txq *q);

#endif
