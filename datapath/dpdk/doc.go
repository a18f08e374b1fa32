// Package dpdk is goko's thin cgo binding to DPDK 22.11 (Debian's
// libdpdk-dev): the EAL, one packet-buffer pool, and ethdev ports that
// implement datapath.Port.
//
//	eal, err := dpdk.Init(dpdk.EALConfig{})          // once per process
//	p, err := eal.OpenPort(dpdk.KernelPortDevargs("veth1", 0), dpdk.PortOptions{})
//	// in the PMD goroutine:
//	runtime.LockOSThread()
//	dpdk.RegisterThread()
//	for {
//		n := p.Recv(pkts)
//		// ... classify; per output port o: o.Send(batch) (or o.SendAndRelease for a last use)
//		p.Release(pkts[:n])
//	}
//	// at shutdown, after the PMDs stopped:
//	eal.Close() // closes ports, rte_eal_cleanup, removes /var/run/dpdk/<prefix>
//
// # Invariants
//
//   - One EAL per process. Init may be called once; a second call fails even
//     after Close, because DPDK cannot initialise its EAL twice.
//   - One cgo call per burst. Recv, Send, SendAndRelease, SendHandoff and Release each
//     cross into C once per burst of up to MaxBurst packets; the per-packet
//     work (refcounts, views, frees) is done in C helpers (goko_dpdk.c) or
//     in Go over C memory. None of them allocates Go memory.
//   - No Go pointer is ever stored in C memory. The arrays a burst is
//     exchanged through live in C memory (one struct per queue). Frames in Go
//     memory (Packet.Buf == nil) are copied by Go into mbufs that C
//     pre-allocated (a per-tx-queue stash of 64), so C never reads Go memory.
//   - Packet.Buf, for packets this package returns, is the rte_mbuf pointer.
//     A Buf is recognised as ours when it lies inside the pool's memory; any
//     other Buf is treated as "not a DPDK mbuf" and its Data copied.
//   - Single-segment mbufs only. A received chain is linearized into its
//     first segment when it fits, else freed and counted in RxDropped. So a
//     frame larger than the mbuf data room (EALConfig.MbufDataRoom, 2048 by
//     default) never reaches the datapath.
//   - Zero copy on Send. A packet whose Buf is our mbuf and whose Data lies
//     inside that mbuf's buffer is transmitted without copying: the mbuf gets
//     one more reference, and data_off/data_len/pkt_len are set from Data.
//     If the mbuf is still queued on another port with a different view
//     (refcount > 1), an indirect mbuf attached to the same buffer carries
//     the new view instead, so views never clobber each other. The bytes are
//     shared, though: do not modify a packet after sending it zero-copy to
//     an asynchronous device (net_ring, physical NICs) until it is done.
//   - Handing over. SendAndRelease (every packet) and SendHandoff (the
//     packets its own argument marks, the datapath's last use of them)
//     pass the caller's mbuf reference to the device instead of adding
//     one: no refcount update on the way out, no release afterwards.
//     SendHandoff hands over only zero-copy packets and clears own for
//     the rest, which the caller still releases.
//   - Threads. Recv, Send and Release on one queue are called from one
//     thread at a time (the datapath's polling goroutine, normally locked
//     with runtime.LockOSThread). Info, Stats and Close may be called from
//     any goroutine; Close waits for an in-flight Recv/Send on the port to
//     return and makes later ones return 0. Packets outlive their port's
//     Close (they must still be released) but not EAL.Close.
//
// # Threads and lcores
//
// The mempool's per-lcore cache is only used by threads that have an lcore
// id. Init runs EAL's main lcore on an OS thread of its own, locked and
// parked until Close (the control path runs there), so no goroutine
// inherits lcore 0 by accident. A polling goroutine should call
// RegisterThread once, after runtime.LockOSThread. It is not required for
// correctness: an unregistered thread bypasses the cache and goes to the
// pool's lock-free ring on every alloc and free, which costs about a third
// of the throughput (see BenchmarkNullRxTx). EAL is started with a single
// lcore (-l <first allowed CPU>), so it runs no worker threads; its control
// threads (eal-intr-thread, rte_mp_handle, vhost and memif handlers) sleep
// in epoll. rte_eal_init pins its thread to that CPU; Init undoes the pin
// so the threads the Go runtime clones do not inherit it.
//
// # Kernel interfaces and namespaces
//
// KernelPortDevargs attaches to a kernel interface through net_af_packet,
// which works on veth, survives close and reopen, and needs no BPF
// filesystem. net_af_xdp also works on veth at a similar rate here, but
// DPDK 22.11 leaks its AF_XDP socket and 2048 mbufs when the port closes,
// so an interface can be opened through af_xdp once per process.
// PortOptions.Netns probes a device inside a network namespace (af_packet,
// af_xdp and tap sockets belong to the namespace they were created in).
package dpdk
