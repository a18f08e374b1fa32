// Package ubpf is goko's eBPF virtual machine: it loads filter programs
// from clang-built ELF objects or raw bytecode, verifies them, and runs
// them on packets from any number of datapath threads at once.
//
// An "Oko filter" is a program of the kind Oko (Chaignon et al., SOSR
// 2018, the Open vSwitch-DPDK fork that made uBPF programs a flow match
// field) runs: uint64 f(void *pkt, uint64 len), 1 meaning match.
//
// # Loading
//
// [LoadELF] parses an object with cilium/ebpf's ELF reader (no kernel
// call): the program chosen by name or section (default: the first), its
// bpf-to-bpf callees, the BTF-defined maps it uses (SEC(".maps")) and its
// globals (.rodata, .data, .bss become single-element array maps holding
// the initial contents; .rodata is read-only for programs). [Load] takes
// raw little-endian bytecode and the maps it refers to (LDDW src 1 or 5,
// imm = index into LoadOptions.Maps; src 2 or 6 for direct value access).
// LoadOptions.ReuseMaps hands the maps of an earlier program to a reload
// when their declarations are identical (see [Program.CompatibleMaps]).
//
// # Program kinds
//
//   - [KindFilter]: an Oko filter, uint64 f(void *pkt, uint64 len). r1 is
//     the packet (read-only unless LoadOptions.PacketWritable), r2 its
//     length; 1 means match.
//   - [KindXDP]: int f(struct xdp_md *ctx). The context is built per run
//     in VM memory; loads of ctx->data, ctx->data_end and ctx->data_meta
//     (32-bit loads, as compiled) are rewritten to the packet pointers,
//     ingress_ifindex and rx_queue_index come from the Thread. XDP_PASS (2)
//     means match.
//   - [KindRaw]: r1 = a memory buffer, r2 = its length, as in the
//     bpf_conformance suite; see "Raw mode" below.
//
// # Instruction set
//
// All of RFC 9669 (conformance groups base32, base64, atomic32, atomic64,
// divmul32, divmul64 and packet): ALU and ALU64 with signed division and
// modulo and MOVSX, JMP and JMP32 (including JA with a 32-bit offset), byte
// swaps, LDDW (immediates, map references by index or fd, direct map value
// addresses), loads and stores of every width and sign-extending loads,
// atomic add/or/and/xor with and without fetch, xchg and cmpxchg in 32 and
// 64 bits, helper and local calls, and the legacy LDABS/LDIND packet loads
// (network byte order; out of bounds ends the program with 0, as in
// Linux). Division by zero yields 0, modulo by zero leaves the dividend
// (zero-extended for 32-bit), shift counts are masked, 32-bit results are
// zero-extended.
//
// # Helpers
//
// Linux's numbering: map_lookup_elem 1, map_update_elem 2, map_delete_elem
// 3, ktime_get_ns 5, trace_printk 6 (to the program's slog logger,
// rate-limited), get_prandom_u32 7, get_smp_processor_id 8 (the Thread's
// slot), csum_diff 28, get_numa_node_id 42, map_push/pop/peek_elem 87-89,
// jiffies64 118, ktime_get_boot_ns 125, ringbuf_output/reserve/submit/
// discard 130-133, ktime_get_coarse_ns 160, loop 181 (bpf_loop: a
// callback run up to 2^23 times, verified as a loop; such programs run in
// the interpreter); so programs compile against
// libbpf's bpf_helpers.h unchanged. goko's own helpers (include/
// goko_helpers.h) start at [GokoHelperBase]: goko_hash32/64, goko_cms_add/
// query (count-min sketch), goko_bloom_add/test.
//
// # Maps
//
// Array, hash, LRU hash, per-thread array and hash (Linux's per-CPU maps,
// one value per Thread slot), LPM trie, queue, stack, bloom filter, ring
// buffer, and goko's count-min sketch ([MapCountMin]). Every map is safe
// for concurrent use by programs on any number of Threads and by the host
// API ([Map.Lookup], [Map.Update], [Map.Delete], [Map.Iterate],
// [Map.Keys], [Map.Info], [Map.ReadRecords]):
//
//   - arrays are lock-free: values are updated in place; BPF atomics on
//     values are real atomic operations;
//   - hash maps are preallocated and sharded (16 shards, each an
//     open-addressing table); lookups take no lock (a per-shard sequence
//     counter tells them to probe again when a writer ran meanwhile), so
//     they never block or slow each other down; a value pointer a program
//     got from a lookup stays valid (memory-safe) for the whole run even
//     if the entry is deleted meanwhile;
//   - LRU hash maps evict the least recently used of a sample of entries;
//   - the LPM trie is one preallocated open-addressing table of (prefix
//     length, prefix), probed per length present, longest first, without
//     locks as hash maps are;
//   - bloom filters and count-min sketches use atomic bit and counter
//     updates; ring buffers take a mutex only to reserve space and commit
//     records with an atomic store, the host drains them in order.
//
// The file comments of map_*.go state each kind's invariants.
//
// # Verifier
//
// Every program is verified before it can run (see verifier.go for the
// design): all paths are explored with register types and bounds,
// equivalent states are pruned, packet accesses must be proven in bounds
// (against data_end for XDP, against the length argument for filters, see
// below), map values, stack (512 bytes per frame, reads must be
// initialised) and context accesses are checked, helper arguments are
// type-checked, unreachable code is rejected, back-edges are followed only
// while the loop condition can still hold, and at most 1,000,000
// instructions are processed. A rejection is a [*VerifierError] naming the
// instruction (index and disassembly) and the reason.
//
// Filters prove packet bounds by comparing with the length: r2 is tracked
// as the packet length, so "if (len < 34) return 0;" proves 34 bytes, and
// "if (off + 4 > len) return 0; *(u32 *)(pkt + off)" proves 4 bytes after
// pkt + off (off being any bounded value); pkt + len is a packet-end
// pointer for XDP-style comparisons. Unsigned and signed comparisons, 64-
// and 32-bit (JMP32), all count when both operands are known to be in the
// range where the signed or 32-bit view equals the value (packet pointers
// against the end: any 64-bit comparison, and 32-bit unsigned ones).
//
// Stack writes at a variable offset (buf[i] = x with i only known to be in
// a range) mark as initialised only the bytes that every possible write
// covers, and reads of possibly uninitialised bytes are rejected. A loop
// that fills a buffer with a counter starting at a constant verifies,
// since the verifier follows each iteration with the counter's exact
// value; a loop whose start index is itself variable does not (initialise
// the buffer first, e.g. with __builtin_memset).
//
// # Raw mode
//
// The bpf_conformance suite's programs treat r1 as a plain buffer without
// bounds checks, so KindRaw verifies structure, jumps, calls, helpers,
// uninitialised registers and stack, and loop bounds, but leaves accesses
// through r1 (or any scalar) to the run-time checks. It also allows
// unreachable code and callx, and uses [HelpersConformance] when asked.
//
// # Running
//
// A [Program] is immutable after loading and safe for concurrent use:
// each goroutine passes its own [Thread] (stack, call frames, region
// tables, per-thread map slot) to [Program.Run]. A run allocates nothing.
//
// # Engines
//
// LoadOptions.Engine chooses how a program runs ([EngineAuto] by
// default: the JIT where there is one, linux on amd64, else the
// interpreter; [EngineJIT] and [EngineInterp] force one):
//
//   - The JIT (jit_amd64.go, whose file comment states why running
//     machine code inside a Go program is safe) compiles the verified
//     program to amd64 machine code, in pure Go: BPF registers in machine
//     registers, code mapped read+execute only after it is written, helpers
//     and faults reached by returning to Go. Lookups in arrays and in hash
//     maps with keys of up to 16 bytes run in the machine code itself.
//   - The interpreter decodes instructions once into a compact form
//     (operand form, width and jump targets resolved, the commonest pairs
//     fused into superinstructions) and runs them with one switch.
//
// Both compute the same results, errors, packet and map contents: a
// differential test and fuzzer (jit_diff_test.go) hold them to it.
//
// Defence in depth: programs never see Go pointers. Every address is a
// (region, offset) pair translated and bounds-checked at each access
// against the run's regions (stack, context, packet, map values, ring
// buffer records), in both engines, whatever the verifier proved (the
// JIT leaves out only packet checks that its own reading of the
// instructions, not the verifier, proves redundant: accesses within what
// the program's completed accesses or its comparisons with the packet's
// length already cover, see jit_flow_amd64.go); read-only regions have
// no writable mapping. The values of an array,
// hash or LPM map are one region (per thread slot for per-thread maps), so
// an access through a lookup's pointer is checked against its map. If the
// verifier were wrong, a bad access stops that run with a [*RunError]: the
// run counts as an error and as no match, is logged (rate-limited), and no
// memory outside the program's regions is touched. Backward jumps and
// calls count against a per-run budget, so no run can loop forever.
//
// Counters ([Program.Stats]) are kept per thread slot and summed on read;
// with LoadOptions.MeasureTime one run in 256 is timed and Stats.TotalNs
// estimates the total from them.
package ubpf
