// Package datapath moves packets: it parses frames into flow keys, looks
// them up in per-thread flow caches, asks a Translator (the OpenFlow layer)
// on a miss, and executes the resulting pre-resolved actions in bursts.
//
// The datapath knows nothing of OpenFlow messages. It runs the eBPF filter
// programs of cached flows itself (package ubpf, a VM thread per pmd);
// other filters are anything that implements Filter. Ports are anything that
// implements Port: DPDK devices (datapath/dpdk) and in-memory ports
// (datapath/memport) for tests and benchmarks.
package datapath
