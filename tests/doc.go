// Package tests holds goko's integration tests: real switchd processes,
// real clients (goko's ofctl, Open vSwitch's ovs-ofctl) and real hosts made
// of network namespaces joined by veth pairs. They need root; every test
// removes the namespaces, interfaces, processes and DPDK runtime
// directories it created.
package tests
