package manpage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPagesUpToDate rebuilds the binaries, renders their pages and
// compares them with docs/man: a help text changed without `make man`
// fails here. Where groff is installed, the pages must also render
// without warnings.
func TestPagesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	bin := t.TempDir()
	build := exec.Command(goBin, "build", "-o", bin+"/", "github.com/goko-net/goko/cmd/...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pages, err := Collect(bin)
	if err != nil {
		t.Fatal(err)
	}
	groff, _ := exec.LookPath("groff")
	for _, p := range pages {
		path := filepath.Join("..", "..", "docs", "man", p.FileName())
		want := p.Render()
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is out of date with %s's help text: run make man (%v)", path, p.Name, err)
			continue
		}
		if groff == "" {
			continue
		}
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", path)
		if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("groff warns about %s: %v\n%s", path, err, out)
		}
	}
	if len(pages) != 4 || len(pages[0].Commands) < 40 {
		t.Errorf("%d pages, ofctl with %d commands", len(pages), len(pages[0].Commands))
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		`a\b`:        `a\eb`,
		".TH x":      `\&.TH x`,
		"'quote":     `\&'quote`,
		"--run-dir":  `\-\-run\-dir`,
		"plain text": "plain text",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}
