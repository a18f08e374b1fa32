/*
 * iofwd: the I/O ceiling for bench/ovs-compare.sh.
 *
 * It does what dpdk-testpmd's "io" forwarding mode does, which Debian 12's
 * dpdk package does not ship: receive a burst of up to 32 packets on port 0,
 * send it unchanged on port 1, free what the tx queue did not take. One
 * lcore, one queue per port, no parsing, no lookup. Whatever a switch does
 * on top of this loop is its own cost.
 *
 * Usage: iofwd EAL-ARGS... -- [--warmup S] [--duration S] [--mbufs N]
 * Prints one line: "iofwd: tx_pkts=N rx_pkts=N seconds=S mpps=X cpu_share=C
 * mpps_per_cpu=Y", where C is the share of the window the process was on a
 * CPU and Y the packets sent per CPU-second it got.
 * The two ports are the first two vdevs given to EAL (--vdev=...).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define BURST 32

static volatile int stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

static int setup_port(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(port, 1, 1, &conf) < 0)
		return -1;
	if (rte_eth_rx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL, pool) < 0)
		return -1;
	if (rte_eth_tx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL) < 0)
		return -1;
	return rte_eth_dev_start(port);
}

int main(int argc, char **argv)
{
	double warmup = 3, duration = 10;
	unsigned mbufs = 65535;
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "iofwd: rte_eal_init failed\n");
		return 1;
	}
	argc -= n;
	argv += n;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--warmup"))
			warmup = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--duration"))
			duration = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--mbufs"))
			mbufs = (unsigned)atoi(argv[i + 1]);
		else {
			fprintf(stderr, "iofwd: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (rte_eth_dev_count_avail() < 2) {
		fprintf(stderr, "iofwd: need two ports (give two --vdev)\n");
		return 1;
	}
	struct rte_mempool *pool = rte_pktmbuf_pool_create("iofwd", mbufs, 256, 0,
	                                                   RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "iofwd: mbuf pool of %u: %s\n", mbufs, rte_strerror(rte_errno));
		return 1;
	}
	if (setup_port(0, pool) < 0 || setup_port(1, pool) < 0) {
		fprintf(stderr, "iofwd: port setup failed\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct rte_mbuf *pkts[BURST];
	uint64_t rx = 0, tx = 0, rx0 = 0, tx0 = 0;
	double start = now(), t0 = 0, t1 = 0, cpu0 = 0, cpu1 = 0;
	int measuring = 0;
	for (uint64_t loops = 0; !stop; loops++) {
		uint16_t nb = rte_eth_rx_burst(0, 0, pkts, BURST);
		if (nb) {
			uint16_t sent = rte_eth_tx_burst(1, 0, pkts, nb);
			for (uint16_t i = sent; i < nb; i++)
				rte_pktmbuf_free(pkts[i]);
			rx += nb;
			tx += sent;
		}
		if ((loops & 0x3ff) == 0) {
			double t = now();
			if (!measuring && t - start >= warmup) {
				measuring = 1;
				t0 = t;
				cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
				rx0 = rx;
				tx0 = tx;
			} else if (measuring && t - t0 >= duration) {
				t1 = t;
				cpu1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
				break;
			}
		}
	}
	if (!measuring || t1 == 0) {
		fprintf(stderr, "iofwd: stopped before the window ended\n");
		return 1;
	}
	printf("iofwd: tx_pkts=%llu rx_pkts=%llu seconds=%.3f mpps=%.3f cpu_share=%.3f mpps_per_cpu=%.3f\n",
	       (unsigned long long)(tx - tx0), (unsigned long long)(rx - rx0), t1 - t0,
	       (tx - tx0) / (t1 - t0) / 1e6, (cpu1 - cpu0) / (t1 - t0), (tx - tx0) / (cpu1 - cpu0) / 1e6);
	fflush(stdout);
	rte_eth_dev_stop(0);
	rte_eth_dev_stop(1);
	rte_eth_dev_close(0);
	rte_eth_dev_close(1);
	rte_eal_cleanup();
	return 0;
}
