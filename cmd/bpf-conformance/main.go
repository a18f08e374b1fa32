// Command bpf-conformance is goko's plugin for the bpf_conformance test
// suite: bpf-conformance [MEMORY] [--elf] < PROGRAM. It runs the program
// on goko's eBPF VM and prints r0 in hex; see filtercmd.Conformance.
package main

import (
	"fmt"
	"os"

	"github.com/goko-net/goko/ctl/filtercmd"
	"github.com/goko-net/goko/internal/version"
)

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-V") {
		fmt.Println(version.Line("bpf-conformance"))
		return
	}
	os.Exit(filtercmd.Conformance(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
