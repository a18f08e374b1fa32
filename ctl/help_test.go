package ctl

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestHelpEveryCommand(t *testing.T) {
	for _, c := range commands {
		out, errs, code := ofctl(t, "", "", "help", c.name)
		if code != 0 || !strings.HasPrefix(out, "usage: ofctl [OPTIONS] "+c.name) {
			t.Errorf("help %s: exit %d %s\n%s", c.name, code, errs, out)
		}
		if c.name != "help" && len(strings.TrimSpace(c.help)) < 20 {
			t.Errorf("help %s is too short: %q", c.name, c.help)
		}
	}
	out, _, _ := ofctl(t, "", "", "--help")
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("--help does not list %s", c.name)
		}
	}
}

// TestCompletionScript checks that contrib/ofctl-completion.bash knows
// every command and completes bridge names from the run directory.
func TestCompletionScript(t *testing.T) {
	script := "../contrib/ofctl-completion.bash"
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`_ofctl_commands="([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no _ofctl_commands in the script")
	}
	got := strings.Fields(string(m[1]))
	list, _, _ := ofctl(t, "", "", "--list-commands")
	want := strings.Fields(list)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("completion script commands:\n got %v\nwant %v", got, want)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	for _, f := range []string{"br0.mgmt", "br-int.mgmt", "other.sock"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o600)
	}
	complete := func(line string) string {
		t.Helper()
		words := strings.Split(line, " ")
		cmd := ". " + script + "; COMP_WORDS=(" + strings.Join(quoteAll(words), " ") + "); COMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "; _ofctl; echo \"${COMPREPLY[@]}\""
		c := exec.Command(bash, "-c", cmd)
		c.Env = append(os.Environ(), "GOKO_RUN_DIR="+dir)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tc := range []struct{ line, want string }{
		{"ofctl dump-gr", "dump-groups dump-group-stats dump-group-features"},
		{"ofctl dump-flows br", "br-int br0"},
		{"ofctl --json dump-flows b", "br-int br0"},
		{"ofctl mod-port br0 1 no-f", "no-forward no-flood"},
		{"ofctl update-map br0 1 m k v --flags no", "noexist"},
		{"ofctl filter ver", "verify"},
		{"ofctl --sort=nw_s", "--sort=nw_src"},
		{"ofctl --no-st", "--no-stats"},
	} {
		if got := complete(tc.line); got != tc.want {
			t.Errorf("completing %q: %q, want %q", tc.line, got, tc.want)
		}
	}
}

func quoteAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = "'" + w + "'"
	}
	return out
}

// TestFilterDispatch checks that "ofctl filter ..." reaches ctl/filtercmd
// with its own options untouched.
func TestFilterDispatch(t *testing.T) {
	_, errs, code := ofctl(t, "", "", "filter", "verify")
	if code != 2 || !strings.Contains(errs, "usage: filter verify") {
		t.Errorf("filter verify without a file: exit %d %q", code, errs)
	}
	_, errs, code = ofctl(t, "", "", "filter", "run", "/nonexistent.o", "--packet", "00")
	if code != 1 || strings.Contains(errs, "unknown flag") {
		t.Errorf("filter run with a missing file: exit %d %q", code, errs)
	}
	if _, _, code := ofctl(t, "", "", "filter", "frob"); code != 2 {
		t.Errorf("filter frob: exit %d", code)
	}
}

// TestCommandDashHelp: "ofctl CMD --help" prints CMD's help, as "ofctl help
// CMD" does, and --version the build's version line.
func TestCommandDashHelp(t *testing.T) {
	for _, name := range []string{"dump-flows", "add-flow", "load-filter-prog", "mod-port"} {
		want, _, _ := ofctl(t, "", "", "help", name)
		for _, args := range [][]string{{name, "--help"}, {name, "br0", "-h"}, {"--help", name}} {
			if got, errs, code := ofctl(t, "", "", args...); code != 0 || got != want {
				t.Errorf("%v: exit %d %s\n got %q\nwant %q", args, code, errs, got, want)
			}
		}
	}
	want, _, _ := ofctl(t, "", "", "help", "filter")
	for _, args := range [][]string{{"filter", "run", "--help"}, {"filter", "--help"}, {"filter", "help"}} {
		if got, errs, code := ofctl(t, "", "", args...); code != 0 || got != want {
			t.Errorf("%v: exit %d %s\n got %q\nwant %q", args, code, errs, got, want)
		}
	}
	if out, _, code := ofctl(t, "", "", "--version"); code != 0 || !strings.HasPrefix(out, "ofctl (goko) ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}
