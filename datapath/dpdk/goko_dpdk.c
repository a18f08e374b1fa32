/*
 * goko_dpdk.c: burst-sized C helpers for goko's DPDK binding.
 * See goko_dpdk.h for the calling convention and doc.go for the invariants.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <rte_config.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include "goko_dpdk.h"

/* ---- EAL ---------------------------------------------------------------- */

int goko_eal_init(int argc, char **argv)
{
	cpu_set_t saved;
	int have_saved, ret;

	/* EAL logs to stdout and syslog by default; a switch wants stderr. */
	rte_openlog_stream(stderr);

	/*
	 * rte_eal_init pins the calling thread to the main lcore's CPU. The
	 * calling thread is a Go runtime M, and threads the Go runtime clones
	 * from it would inherit that mask, so put the mask back afterwards.
	 */
	have_saved = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;
	ret = rte_eal_init(argc, argv);
	if (have_saved)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	if (ret < 0)
		return -rte_errno;
	return ret;
}

int goko_errno(void) { return rte_errno; }

unsigned goko_lcore_id(void) { return rte_lcore_id(); }

int goko_thread_register(void)
{
	cpu_set_t saved;
	int have_saved, ret;

	if (rte_lcore_id() != LCORE_ID_ANY)
		return 0; /* EAL thread or registered already */
	have_saved = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;
	ret = rte_thread_register();
	if (have_saved)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	return ret < 0 ? -rte_errno : 0;
}

void goko_thread_unregister(void)
{
	if (rte_lcore_id() != LCORE_ID_ANY && rte_lcore_id() != rte_get_main_lcore())
		rte_thread_unregister();
}

int goko_setns(int fd)
{
	return setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
}

/*
 * Detaches any XDP program from the interface named ifname in the calling
 * thread's network namespace, in both driver and generic mode (RTM_SETLINK
 * with IFLA_XDP_FD = -1). DPDK 22.11's af_xdp PMD leaves its program
 * attached on close when libxdp finds no bpffs, and the interface can then
 * not be opened again. Returns 0 or a negative errno.
 */
int goko_xdp_detach(const char *ifname)
{
	static const uint32_t modes[] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req;
	char ack[512];
	struct rtattr *xdp, *a;
	unsigned i;
	int fd, ifindex, ret = 0;

	ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0)
		return -errno;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
		req.nh.nlmsg_type = RTM_SETLINK;
		req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		req.nh.nlmsg_seq = i + 1;
		req.ifi.ifi_family = AF_UNSPEC;
		req.ifi.ifi_index = ifindex;
		xdp = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		xdp->rta_type = IFLA_XDP | NLA_F_NESTED;
		xdp->rta_len = RTA_LENGTH(0);
		a = (struct rtattr *)((char *)xdp + RTA_ALIGN(xdp->rta_len));
		a->rta_type = IFLA_XDP_FD;
		a->rta_len = RTA_LENGTH(sizeof(int));
		*(int *)RTA_DATA(a) = -1;
		xdp->rta_len += RTA_ALIGN(a->rta_len);
		a = (struct rtattr *)((char *)xdp + RTA_ALIGN(xdp->rta_len));
		a->rta_type = IFLA_XDP_FLAGS;
		a->rta_len = RTA_LENGTH(sizeof(uint32_t));
		*(uint32_t *)RTA_DATA(a) = modes[i];
		xdp->rta_len += RTA_ALIGN(a->rta_len);
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(xdp->rta_len);
		if (send(fd, &req, req.nh.nlmsg_len, 0) < 0 || recv(fd, ack, sizeof(ack), 0) < 0) {
			ret = -errno;
			break;
		}
	}
	close(fd);
	return ret;
}

/* ---- mempool ------------------------------------------------------------ */

struct range {
	uintptr_t lo, hi;
};

static void range_cb(struct rte_mempool *mp, void *opaque,
		     struct rte_mempool_memhdr *memhdr, unsigned mem_idx)
{
	struct range *r = opaque;
	uintptr_t a = (uintptr_t)memhdr->addr, b = a + memhdr->len;

	(void)mp;
	(void)mem_idx;
	if (r->lo == 0 || a < r->lo)
		r->lo = a;
	if (b > r->hi)
		r->hi = b;
}

struct rte_mempool *goko_pool_create(const char *name, unsigned n, unsigned cache,
				     unsigned data_room, uintptr_t *lo, uintptr_t *hi)
{
	struct range r = {0, 0};
	struct rte_mempool *mp;

	mp = rte_pktmbuf_pool_create(name, n, cache, 0,
				     (uint16_t)(data_room + RTE_PKTMBUF_HEADROOM),
				     SOCKET_ID_ANY);
	if (mp == NULL)
		return NULL;
	rte_mempool_mem_iter(mp, range_cb, &r);
	*lo = r.lo;
	*hi = r.hi;
	return mp;
}

unsigned goko_pool_avail(struct rte_mempool *mp) { return rte_mempool_avail_count(mp); }

unsigned goko_pool_in_use(struct rte_mempool *mp) { return rte_mempool_in_use_count(mp); }

/* ---- ports -------------------------------------------------------------- */

/*
 * Returns 0 when the device was probed now, 1 when it existed already
 * (probed by the EAL command line or an earlier call), or a negative errno.
 */
int goko_port_probe(const char *devargs, const char *name, uint16_t *port_id)
{
	struct rte_dev_iterator it;
	uint16_t pid;
	int ret, existed;

	ret = rte_dev_probe(devargs);
	existed = ret == -EEXIST;
	if (ret < 0 && !existed)
		return ret;
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return existed;
	RTE_ETH_FOREACH_MATCHING_DEV(pid, devargs, &it) {
		*port_id = pid;
		rte_eth_iterator_cleanup(&it);
		return existed;
	}
	return -ENODEV;
}

enum {
	STAGE_INFO = 1,
	STAGE_CONFIGURE,
	STAGE_DESC,
	STAGE_MTU,
	STAGE_RXQ,
	STAGE_TXQ,
	STAGE_START,
};

int goko_port_setup(uint16_t port, uint16_t nrxq, uint16_t ntxq, uint16_t nrxd,
		    uint16_t ntxd, struct rte_mempool *pool, int promisc, int mtu,
		    int *stage)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int ret, socket;
	uint16_t q;

	*stage = STAGE_INFO;
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (nrxq > info.max_rx_queues || ntxq > info.max_tx_queues)
		return -EINVAL;

	/*
	 * No offloads. In particular not RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE:
	 * zero-copy sends transmit mbufs whose refcount is above one.
	 */
	memset(&conf, 0, sizeof(conf));
	/*
	 * Several receive queues: spread flows over them by an RSS hash of
	 * the addresses and ports, where the device can (vdevs such as
	 * net_pcap have one queue per source instead and no RSS).
	 */
	if (nrxq > 1) {
		uint64_t hf = info.flow_type_rss_offloads &
			      (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
		if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		}
	}
	*stage = STAGE_CONFIGURE;
	ret = rte_eth_dev_configure(port, nrxq, ntxq, &conf);
	if (ret != 0)
		return ret;
	*stage = STAGE_DESC;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrxd, &ntxd);
	if (ret != 0)
		return ret;
	if (mtu > 0) {
		*stage = STAGE_MTU;
		ret = rte_eth_dev_set_mtu(port, (uint16_t)mtu);
		if (ret != 0)
			return ret;
	}
	socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = SOCKET_ID_ANY;
	*stage = STAGE_RXQ;
	for (q = 0; q < nrxq; q++) {
		ret = rte_eth_rx_queue_setup(port, q, nrxd, socket, NULL, pool);
		if (ret != 0)
			return ret;
	}
	*stage = STAGE_TXQ;
	for (q = 0; q < ntxq; q++) {
		ret = rte_eth_tx_queue_setup(port, q, ntxd, socket, NULL);
		if (ret != 0)
			return ret;
	}
	*stage = STAGE_START;
	ret = rte_eth_dev_start(port);
	if (ret != 0)
		return ret;
	if (promisc)
		rte_eth_promiscuous_enable(port); /* -ENOTSUP is fine */
	*stage = 0;
	return 0;
}

/*
 * Stops and closes the port and, when remove is set and no other ethdev
 * port still uses the underlying device, detaches the device (so a vdev's
 * name can be probed again).
 */
int goko_port_close(uint16_t port, int remove)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;
	uint16_t pid;
	int ret, others = 0;

	if (rte_eth_dev_info_get(port, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(port);
	ret = rte_eth_dev_close(port);
	if (remove && dev != NULL) {
		RTE_ETH_FOREACH_DEV_OF(pid, dev)
			others++;
		if (others == 0) {
			int r = rte_dev_remove(dev);
			if (ret == 0)
				ret = r;
		}
	}
	return ret;
}

int goko_port_info(uint16_t port, uint8_t mac[6], uint16_t *mtu, int *up,
		   uint32_t *speed, char *name, int namelen)
{
	struct rte_ether_addr addr;
	struct rte_eth_link link;
	char buf[RTE_ETH_NAME_MAX_LEN];

	memset(&addr, 0, sizeof(addr));
	rte_eth_macaddr_get(port, &addr);
	memcpy(mac, addr.addr_bytes, 6);
	if (rte_eth_dev_get_mtu(port, mtu) != 0)
		*mtu = 0;
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(port, &link) == 0) {
		*up = link.link_status == RTE_ETH_LINK_UP;
		*speed = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
	} else {
		*up = 0;
		*speed = 0;
	}
	if (name != NULL && namelen > 0) {
		if (rte_eth_dev_get_name_by_port(port, buf) == 0)
			snprintf(name, (size_t)namelen, "%s", buf);
		else
			name[0] = 0;
	}
	return 0;
}

int goko_port_stats(uint16_t port, uint64_t out[8])
{
	struct rte_eth_stats s;
	int ret = rte_eth_stats_get(port, &s);

	if (ret != 0)
		return ret;
	out[0] = s.ipackets;
	out[1] = s.opackets;
	out[2] = s.ibytes;
	out[3] = s.obytes;
	out[4] = s.imissed;
	out[5] = s.ierrors;
	out[6] = s.oerrors;
	out[7] = s.rx_nombuf;
	return 0;
}

struct goko_rxq *goko_rxq_new(uint16_t port, uint16_t queue, int socket)
{
	struct goko_rxq *q = rte_zmalloc_socket("goko_rxq", sizeof(*q),
						RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return NULL;
	q->port = port;
	q->queue = queue;
	return q;
}

struct goko_txq *goko_txq_new(uint16_t port, uint16_t queue, int socket,
			      struct rte_mempool *pool)
{
	struct goko_txq *q = rte_zmalloc_socket("goko_txq", sizeof(*q),
						RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return NULL;
	q->port = port;
	q->queue = queue;
	q->pool = pool;
	goko_stash_refill(q);
	return q;
}

void goko_rxq_free(struct goko_rxq *q) { rte_free(q); }

void goko_txq_free(struct goko_txq *q)
{
	if (q == NULL)
		return;
	if (q->stash_n > 0)
		rte_pktmbuf_free_bulk(q->stash, q->stash_n);
	rte_free(q);
}

/* ---- fast path ---------------------------------------------------------- */

uint16_t goko_rx(struct goko_rxq *q, uint16_t n)
{
	uint16_t nb, i, j = 0;
	uint64_t drops = 0;

	nb = rte_eth_rx_burst(q->port, q->queue, q->mbufs, n);
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = q->mbufs[i];

		/*
		 * Single-segment frames only: a chain is linearized into its
		 * first segment when it fits there, dropped otherwise.
		 */
		if (unlikely(m->nb_segs != 1) && rte_pktmbuf_linearize(m) != 0) {
			rte_pktmbuf_free(m);
			drops++;
			continue;
		}
		q->mbufs[j] = m;
		q->addr[j] = rte_pktmbuf_mtod(m, void *);
		q->len[j] = m->data_len;
		rte_prefetch0(q->addr[j]);
		j++;
	}
	if (unlikely(drops))
		__atomic_fetch_add(&q->drops, drops, __ATOMIC_RELAXED);
	return j;
}

void goko_release(struct goko_rxq *q, uint16_t n)
{
	rte_pktmbuf_free_bulk(q->rel, n);
}

void goko_stash_refill(struct goko_txq *q)
{
	uint32_t i, want = GOKO_STASH - q->stash_n;

	if (want == 0)
		return;
	if (rte_pktmbuf_alloc_bulk(q->pool, &q->stash[q->stash_n], want) != 0)
		return; /* pool exhausted: the copy path drops until it recovers */
	for (i = q->stash_n; i < GOKO_STASH; i++)
		q->stash_data[i] = rte_pktmbuf_mtod(q->stash[i], void *);
	q->stash_n = GOKO_STASH;
}

unsigned goko_stash_room(struct goko_txq *q)
{
	return rte_pktmbuf_data_room_size(q->pool) - RTE_PKTMBUF_HEADROOM;
}

/*
 * Transmits slots [0, n). For a zero-copy slot the mbuf gets one more
 * reference (the caller keeps its own until Release):
 *   - if the mbuf already describes the view (data_off, len), send it as is;
 *   - else if nobody else holds it (refcount 1), point it at the view;
 *   - else (it is queued on another port with a different view) send an
 *     indirect mbuf attached to the same buffer, carrying the new view.
 * With consume set, the caller's reference is handed to the device instead
 * (Send followed by Release, without the refcount round trip), and
 * q->free[0, q->nfree) lists the caller's other references to drop. A
 * GOKO_TX_ZC_OWN slot is a zero-copy slot handed over in the same way,
 * whatever consume says (the datapath's last use of a received packet).
 * Whatever the device does not accept is freed here and counted as dropped.
 */
uint16_t goko_tx(struct goko_txq *q, uint16_t n, int consume)
{
	struct rte_mbuf **out = q->out;
	uint16_t i, k = 0, sent;
	uint64_t drops = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = q->mbufs[i], *c;
		uint16_t len = q->len[i];
		uint16_t off;
		int own = consume;

		switch (q->kind[i]) {
		case GOKO_TX_ZC_OWN:
			own = 1;
			/* fall through */
		case GOKO_TX_ZC:
			off = (uint16_t)q->off[i];
			if (m->data_off == off && m->data_len == len && m->pkt_len == len) {
				if (!own)
					rte_mbuf_refcnt_update(m, 1);
				out[k++] = m;
			} else if (rte_mbuf_refcnt_read(m) == 1) {
				m->data_off = off;
				m->data_len = len;
				m->pkt_len = len;
				if (!own)
					rte_mbuf_refcnt_update(m, 1);
				out[k++] = m;
			} else {
				if ((c = rte_pktmbuf_alloc(q->pool)) != NULL) {
					rte_pktmbuf_attach(c, m);
					c->data_off = off;
					c->data_len = len;
					c->pkt_len = len;
					out[k++] = c;
				} else {
					drops++;
				}
				if (own)
					rte_pktmbuf_free(m);
			}
			break;
		case GOKO_TX_COPY:
			m->data_len = len;
			m->pkt_len = len;
			out[k++] = m;
			break;
		default:
			drops++;
		}
	}
	sent = k ? rte_eth_tx_burst(q->port, q->queue, out, k) : 0;
	if (unlikely(sent < k)) {
		rte_pktmbuf_free_bulk(&out[sent], k - sent);
		drops += k - sent;
	}
	if (consume && q->nfree) {
		rte_pktmbuf_free_bulk(q->free, q->nfree);
		q->nfree = 0;
	}
	if (unlikely(drops))
		__atomic_fetch_add(&q->drops, drops, __ATOMIC_RELAXED);
	if (q->stash_n < GOKO_STASH / 2)
		goko_stash_refill(q);
	return sent;
}
