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

const help = `usage: bpf-conformance [MEMORY] [--elf] < PROGRAM

goko's plugin for the bpf_conformance test suite: it reads an eBPF program
from standard input (hex bytecode, or an ELF object with --elf), runs it on
goko's VM with MEMORY (hex bytes) as its memory, and prints r0 in hex.

Exit status: 0 after a run, 1 on an invalid program or a run-time fault.
  --elf          PROGRAM is an ELF object, not hex bytecode
  -V, --version  print the version and exit
`

func main() {
	if len(os.Args) == 2 {
		switch os.Args[1] {
		case "--version", "-V":
			fmt.Println(version.Line("bpf-conformance"))
			return
		case "--help", "-h":
			fmt.Print(help)
			return
		}
	}
	os.Exit(filtercmd.Conformance(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
