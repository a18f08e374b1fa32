package jumpgen

import (
	"os"
	"strings"
	"testing"
)

// interp.go holds exactly what go generate writes: an edit by hand to one
// case, or a change here without regenerating, fails.
func TestInterpreterUpToDate(t *testing.T) {
	src, err := os.ReadFile("../../interp.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Rewrite(string(src))
	if err != nil {
		t.Fatal(err)
	}
	if want != string(src) {
		t.Fatal("ubpf/interp.go's conditional jumps differ from what jumpgen writes: run go generate ./ubpf")
	}
	if n := strings.Count(Cases(), "case op"); n != 44 {
		t.Fatalf("%d cases, want 44", n)
	}
}
