/* goko_helpers.h: goko's own BPF helpers and map types.
 *
 * Include after <bpf/bpf_helpers.h>. Standard helpers keep Linux's numbers
 * (bpf_map_lookup_elem, bpf_ktime_get_ns, bpf_ringbuf_output, ...);
 * goko's own start at GOKO_HELPER_BASE.
 *
 * Oko filters have the signature
 *     __u64 f(void *pkt, __u64 len)   -- return GOKO_MATCH (1) to match
 * and XDP programs the usual int f(struct xdp_md *ctx) -- XDP_PASS matches.
 */
#ifndef GOKO_HELPERS_H
#define GOKO_HELPERS_H

#include <linux/types.h>

#define GOKO_MATCH 1
#define GOKO_NO_MATCH 0

/* Map type of a count-min sketch: max_entries = width (counters per row),
 * map_extra = depth (rows, default 4), key = counted element, value = __u64. */
#define GOKO_MAP_TYPE_COUNT_MIN 0x10001

#define GOKO_HELPER_BASE 0x10000

/* goko_hash32/64: goko's stable hash of len bytes at data, with a seed. */
static __u32 (*goko_hash32)(const void *data, __u32 len, __u64 seed) = (void *)(GOKO_HELPER_BASE + 1);
static __u64 (*goko_hash64)(const void *data, __u32 len, __u64 seed) = (void *)(GOKO_HELPER_BASE + 2);

/* goko_cms_add adds n to key's counters and returns the new estimate;
 * goko_cms_query returns the estimate. */
static __u64 (*goko_cms_add)(void *sketch, const void *key, __u64 n) = (void *)(GOKO_HELPER_BASE + 3);
static __u64 (*goko_cms_query)(void *sketch, const void *key) = (void *)(GOKO_HELPER_BASE + 4);

/* Bloom filter (BPF_MAP_TYPE_BLOOM_FILTER): goko_bloom_add inserts value;
 * goko_bloom_test returns 1 if value may be present, 0 if it surely is not.
 * (bpf_map_push_elem / bpf_map_peek_elem work too, with Linux's results.) */
static long (*goko_bloom_add)(void *bloom, const void *value) = (void *)(GOKO_HELPER_BASE + 5);
static long (*goko_bloom_test)(void *bloom, const void *value) = (void *)(GOKO_HELPER_BASE + 6);

#endif
