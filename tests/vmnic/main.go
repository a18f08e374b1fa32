// Command vmnic is the "VM side" of a vhost-user port in goko's
// integration tests: it connects to a switch's net_vhost socket as a
// virtio_user device (what QEMU's virtio-net does for a real VM) and
// bridges it to a kernel interface, the VM's NIC inside a network
// namespace. Frames cross between the two unchanged. It runs until
// SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/dpdk"
)

func main() {
	sock := flag.String("vhost", "", "vhost-user socket of the switch port")
	iface := flag.String("iface", "", "kernel interface of the VM (a veth end)")
	prefix := flag.String("prefix", fmt.Sprintf("vmnic-%d", os.Getpid()), "DPDK file prefix")
	flag.Parse()
	if err := run(*sock, *iface, *prefix); err != nil {
		fmt.Fprintln(os.Stderr, "vmnic:", err)
		os.Exit(1)
	}
}

func run(sock, iface, prefix string) error {
	eal, err := dpdk.Init(dpdk.EALConfig{FilePrefix: prefix, MemoryMB: 256, Mbufs: 4095})
	if err != nil {
		return err
	}
	defer eal.Close()
	var vu *dpdk.Port
	deadline := time.Now().Add(20 * time.Second)
	for {
		vu, err = eal.OpenPort("virtio_user0,path="+sock+",queues=1", dpdk.PortOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	kp, err := eal.OpenPort(dpdk.KernelPortDevargs(iface, 0), dpdk.PortOptions{})
	if err != nil {
		return err
	}
	var stop atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; stop.Store(true) }()
	fmt.Println("vmnic ready")
	runtime.LockOSThread()
	dpdk.RegisterThread()
	var pkts [32]datapath.Packet
	var ptrs [32]*datapath.Packet
	fwd := func(from, to *dpdk.Port) int {
		n := from.Recv(pkts[:])
		if n == 0 {
			return 0
		}
		for i := 0; i < n; i++ {
			ptrs[i] = &pkts[i]
		}
		to.SendAndRelease(ptrs[:n])
		return n
	}
	for !stop.Load() {
		if fwd(vu, kp)+fwd(kp, vu) == 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	vu.Close()
	kp.Close()
	return nil
}
