// Command gen writes goko's man pages into a directory from the help texts
// of the binaries in another: go run ./internal/manpage/gen -bin bin -out docs/man
// (make man does this).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goko-net/goko/internal/manpage"
)

func main() {
	bin := flag.String("bin", "bin", "directory of the built binaries")
	out := flag.String("out", "docs/man", "directory to write the pages to")
	flag.Parse()
	pages, err := manpage.Collect(*bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, p := range pages {
		if err := os.WriteFile(filepath.Join(*out, p.FileName()), []byte(p.Render()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
