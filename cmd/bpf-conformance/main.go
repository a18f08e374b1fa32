// Command bpf-conformance is goko's plugin for the bpf_conformance test
// suite: bpf-conformance [MEMORY] [--elf] < PROGRAM. It runs the program
// on goko's eBPF VM and prints r0 in hex; see filtercmd.Conformance.
package main

import (
	"os"

	"github.com/goko-net/goko/ctl/filtercmd"
)

func main() {
	os.Exit(filtercmd.Conformance(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
