package tests

// The documentation's transcripts, replayed. Every ```console block of
// README.md and docs/*.md is a transcript: lines starting with "# " are
// commands (a command continues on the next lines until bash can parse
// it: loops, here-documents), the lines after a command are what it
// printed. TestDocTranscripts runs each document's transcripts in order
// in one bash session, as root, from the top of the checkout, and
// compares what each command prints with the document, so that commands,
// outputs and quoted error messages cannot drift from the code.
//
// To run on a shared machine and beside other tests, names are made
// unique and private: the namespaces lab0, lab1 and lab2 (and their
// interfaces) get a per-process name, /tmp/ and ~ become private
// directories, /run/goko a private run directory (switchd gets --run-dir,
// ofctl GOKO_RUN_DIR). Outputs are compared after normalize() replaced
// what differs from run to run (times, pids, round-trip times, counters
// of background traffic; each rule says why). A block preceded by
// <!-- transcript: skip --> is not run (commands that need hardware);
// one preceded by <!-- transcript: output varies --> is run but its
// outputs are not compared.

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

type transcriptCmd struct {
	line     int    // line of the command in the document
	text     string // the command, continuation lines included
	expected string // what the document shows it printing
	outStart int    // index of the first output line in the document
	outLines int    // number of output lines
	check    bool   // compare the output
}

// updateDocs rewrites the documents' outputs with what the commands print
// (go test ./tests -run TestDocTranscripts -update-docs), for a change
// that alters outputs on purpose; review the diff.
var updateDocs = flag.Bool("update-docs", false, "rewrite the docs' transcript outputs with the real ones")

// parseTranscripts returns the commands of every console block of a
// markdown document.
func parseTranscripts(t *testing.T, doc string) []transcriptCmd {
	t.Helper()
	lines := strings.Split(doc, "\n")
	var cmds []transcriptCmd
	directive := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if m := regexp.MustCompile(`^<!-- transcript: (.*) -->$`).FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			directive = m[1]
			continue
		}
		if strings.TrimSpace(l) != "```console" {
			if strings.TrimSpace(l) != "" {
				directive = ""
			}
			continue
		}
		block := directive
		directive = ""
		i++
		var cur *transcriptCmd
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			l := lines[i]
			if !strings.HasPrefix(l, "# ") {
				if cur != nil {
					cur.expected += l + "\n"
					cur.outLines++
				}
				continue
			}
			if block == "skip" {
				continue
			}
			c := transcriptCmd{line: i + 1, text: strings.TrimPrefix(l, "# "), check: block != "output varies"}
			// A here-document runs to its delimiter (bash -n accepts an
			// unterminated one); other commands until bash can parse them.
			if m := regexp.MustCompile(`<<-?\s*['"]?(\w+)['"]?`).FindStringSubmatch(c.text); m != nil {
				for i+1 < len(lines) {
					i++
					c.text += "\n" + lines[i]
					if strings.TrimSpace(lines[i]) == m[1] {
						break
					}
				}
			}
			for !bashParses(c.text) && i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "```" {
				i++
				c.text += "\n" + lines[i]
			}
			c.outStart = i + 1
			cmds = append(cmds, c)
			cur = &cmds[len(cmds)-1]
		}
	}
	return cmds
}

// bashParses reports whether script is complete bash syntax.
func bashParses(script string) bool {
	return exec.Command("bash", "-n", "-c", script).Run() == nil
}

// normalization rules: each replaces, in expected and actual output
// alike, what legitimately differs between runs.
var normalizations = []struct{ re, repl string }{
	{`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?`, "TIME"},                           // log timestamps
	{`time=\d+(\.\d+)? ms`, "time=T ms"},                                                           // ping round trips
	{`time \d+ms`, "time Tms"},                                                                     // ping totals
	{`rtt min/avg/max/mdev = [\d./]+ ms(, pipe \d+)?`, "rtt min/avg/max/mdev = T ms"},              // ping statistics
	{`duration=\d+(\.\d+)?s`, "duration=Ds"},                                                       // flow ages
	{`goko-\d+`, "goko-PID"},                                                                       // DPDK file prefixes
	{`\d+ packets? received by filter`, "N packets received by filter"},                            // tcpdump: all traffic it saw
	{`"run_ns": \d+`, `"run_ns": N`},                                                               // filter run times
	{`"avg_ns": [\d.e+-]+`, `"avg_ns": N`},                                                         // ...
	{`(?m)^(\d+\s+\S+\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+)[\d.]+$`, "${1}NS"},                         // dump-filter-progs NS/RUN
	{`n_packets=\d+, n_bytes=\d+, priority=100,arp `, "n_packets=N, n_bytes=N, priority=100,arp "}, // ARP refreshes are timed by the kernel
	{`completed in [\d.]+ seconds`, "completed in T seconds"},                                      // Mininet's run time
	{`verified in [\d.]+(µs|ms|s|ns)`, "verified in T"},                                            // the verifier's time
	{`used:\d+\.\d+s`, "used:Ts"},                                                                  // megaflow idle times
}

func normalize(s string) string {
	for _, n := range normalizations {
		s = regexp.MustCompile(n.re).ReplaceAllString(s, n.repl)
	}
	var out []string
	for _, l := range strings.Split(s, "\n") {
		out = append(out, strings.TrimRight(l, " \t"))
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

func TestDocTranscripts(t *testing.T) {
	root, _ := filepath.Abs("..")
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append([]string{filepath.Join(root, "README.md")}, docs...)
	// The transcripts use the checkout's bin/ and examples, as a reader
	// does after make build.
	build := exec.Command("go", "build", "-o", filepath.Join(root, "bin")+"/", "./cmd/...")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command("make", "-s", "-C", filepath.Join(root, "examples", "bpf")).CombinedOutput(); err != nil {
		t.Fatalf("make -C examples/bpf: %v\n%s", err, out)
	}
	for _, doc := range docs {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		cmds := parseTranscripts(t, string(text))
		if len(cmds) == 0 {
			continue
		}
		name := filepath.Base(doc)
		t.Run(name, func(t *testing.T) {
			outs := replay(t, root, name, cmds)
			if *updateDocs && outs != nil {
				lines := strings.Split(string(text), "\n")
				for i := len(cmds) - 1; i >= 0; i-- {
					c := cmds[i]
					if !c.check || normalize(outs[i]) == normalize(c.expected) {
						continue // keep what the document shows
					}
					out := strings.Split(strings.TrimRight(outs[i], "\n"), "\n")
					if outs[i] == "" {
						out = nil
					}
					lines = append(lines[:c.outStart], append(out, lines[c.outStart+c.outLines:]...)...)
				}
				if err := os.WriteFile(doc, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// replay runs a document's commands and compares their outputs; it
// returns the outputs as the document would show them.
func replay(t *testing.T, root, doc string, cmds []transcriptCmd) []string {
	u := uniq("dt")
	tmp := t.TempDir()
	home, private, runDir := filepath.Join(tmp, "home"), filepath.Join(tmp, "tmp"), filepath.Join(tmp, "run")
	for _, d := range []string{home, private, runDir} {
		os.MkdirAll(d, 0o755)
	}
	labs := regexp.MustCompile(`\blab([0-9$])`)
	ofPort := fmt.Sprint(freePort(t)) // for the controllers the documents start on 6653
	pathSubst := strings.NewReplacer("/tmp/", private+"/", "/run/goko", runDir, "/work/main", root)
	subst := func(s string) string {
		return strings.ReplaceAll(pathSubst.Replace(labs.ReplaceAllString(s, u+"$1")), "6653", ofPort)
	}
	// back maps a real output to the document's names.
	back := func(s string) string {
		s = strings.NewReplacer(private+"/", "/tmp/", runDir, "/run/goko", root, "/work/main", ":"+ofPort, ":6653",
			home+"/", "/root/").Replace(s)
		return regexp.MustCompile(`\b`+u+`([0-9])`).ReplaceAllString(s, "lab$1")
	}
	cmdSubst := strings.NewReplacer("bin/switchd ", "bin/switchd --run-dir "+runDir+" ")
	var script strings.Builder
	script.WriteString("exec 2>&1\nmarker() { printf '\\n@@@transcript %d@@@\\n' \"$1\"; }\n")
	// mn, as the documents run it, but never Mininet's cleanup (see
	// mnRunner in mininet_test.go).
	script.WriteString("mn() { /usr/bin/python3 -c \"$GOKO_MN_RUNNER\" \"$@\"; }\n")
	for i, c := range cmds {
		fmt.Fprintf(&script, "marker %d\n%s\n", i, cmdSubst.Replace(subst(c.text)))
	}
	fmt.Fprintf(&script, "marker %d\n", len(cmds))
	sh := exec.Command("bash", "-c", script.String())
	sh.Dir = root
	// HOME is private; Go keeps its caches where they were.
	// A newcomer types the commands at a shell, not inside make (CI runs
	// the tests from `make test`, whose variables would make a nested make
	// announce the directories it enters).
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MAKELEVEL" && k != "MFLAGS" && k != "MAKEOVERRIDES" {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "GOKO_RUN_DIR="+runDir, "GOKO_MN_RUNNER="+mnRunner)
	for _, v := range []string{"GOPATH", "GOMODCACHE", "GOCACHE", "GOENV"} {
		if out, err := exec.Command("go", "env", v).Output(); err == nil {
			env = append(env, v+"="+strings.TrimSpace(string(out)))
		}
	}
	sh.Env = env
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	sh.Stdout = &out
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sh.Wait() }()
	t.Cleanup(func() {
		// Whatever the transcript left running (switchd, tcpdump, pings)
		// is in its process group; switchd exits cleanly on SIGTERM.
		syscall.Kill(-sh.Process.Pid, syscall.SIGTERM)
		time.Sleep(2 * time.Second)
		syscall.Kill(-sh.Process.Pid, syscall.SIGKILL)
		for _, ns := range []string{"0", "1", "2"} {
			exec.Command("ip", "netns", "del", u+ns).Run()
			exec.Command("ip", "link", "del", u+ns+"-sw").Run()
		}
	})
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		syscall.Kill(-sh.Process.Pid, syscall.SIGKILL)
		<-done
		t.Errorf("%s: the transcript did not finish in 10 minutes", doc)
	}
	got := out.String()
	outs := make([]string, len(cmds))
	for i, c := range cmds {
		start := strings.Index(got, fmt.Sprintf("\n@@@transcript %d@@@\n", i))
		end := strings.Index(got, fmt.Sprintf("\n@@@transcript %d@@@\n", i+1))
		if start < 0 || end < 0 {
			t.Fatalf("%s:%d: the transcript stopped before %q:\n%s", doc, c.line, c.text, got)
		}
		actual := back(got[start+len(fmt.Sprintf("\n@@@transcript %d@@@\n", i)) : end])
		outs[i] = actual
		if !c.check {
			continue
		}
		if normalize(actual) != normalize(c.expected) && !*updateDocs {
			t.Errorf("%s:%d: %s\n--- the document shows:\n%s\n--- it printed:\n%s", doc, c.line, c.text, normalize(c.expected), normalize(actual))
		}
	}
	return outs
}

// docCommand is a goko command a document prints outside transcripts.
type docCommand struct {
	doc  string
	line int
	prog string   // ofctl, switchd or netctl
	args []string // as bash splits them
}

// docCommands finds the ofctl, switchd and netctl commands of ```sh
// blocks and of inline code spans (those without placeholders such as
// TARGET).
func docCommands(t *testing.T, doc, text string) []docCommand {
	var out []docCommand
	lines := strings.Split(text, "\n")
	progRE := regexp.MustCompile(`(?:^|\s|^sh\s+)(?:bin/)?(ofctl|switchd|netctl)\s+(.*)$`)
	add := func(n int, cmd string) {
		m := progRE.FindStringSubmatch(cmd)
		if m == nil || strings.Contains(m[0], "ovs-ofctl") {
			return
		}
		rest := regexp.MustCompile(`\s+([0-9]*>|&\s*$|\|).*$`).ReplaceAllString(m[2], "")
		split, err := exec.Command("bash", "-c", "set -- "+rest+"\nprintf '%s\\0' \"$@\"").Output()
		if err != nil {
			t.Errorf("%s:%d: bash cannot split %q: %v", doc, n, rest, err)
			return
		}
		args := strings.Split(strings.TrimSuffix(string(split), "\x00"), "\x00")
		if len(args) == 1 && args[0] == "" {
			args = nil
		}
		out = append(out, docCommand{doc, n, m[1], args})
	}
	inSh := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "```sh":
			inSh = true
			continue
		case strings.HasPrefix(strings.TrimSpace(l), "```"):
			inSh = false
			continue
		}
		if inSh {
			n := i + 1
			for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
				i++
				l = strings.TrimSuffix(l, "\\") + " " + strings.TrimSpace(lines[i])
			}
			add(n, regexp.MustCompile(`(^|\s)#.*$`).ReplaceAllString(l, ""))
			continue
		}
		for _, span := range regexp.MustCompile("`((?:bin/)?(?:ofctl|switchd|netctl) [^`]*)`").FindAllStringSubmatch(l, -1) {
			if regexp.MustCompile(`\b[A-Z][A-Z_]{2,}\b|\[|\.\.\.`).MatchString(span[1]) || len(strings.Fields(span[1])) < 3 ||
				strings.HasPrefix(strings.Fields(span[1])[len(strings.Fields(span[1]))-1], "--") ||
				regexp.MustCompile(`ofctl filter \w+$`).MatchString(span[1]) {
				continue // a synopsis with placeholders, or a command named in prose
			}
			add(i+1, span[1])
		}
	}
	return out
}

// TestDocCommands: the ofctl, switchd and netctl commands the documents
// show outside transcripts (```sh blocks, inline code) are accepted by
// the binaries: known commands and options, flows that parse. Each runs
// where it can do no harm: ofctl against an empty run directory (so it
// stops at connecting), switchd with --version added (so it stops after
// parsing its flags), netctl on an empty state (its daemons, etcd and
// agent, with --help added). Exit status 2 (bad usage) fails the test.
func TestDocCommands(t *testing.T) {
	root, _ := filepath.Abs("..")
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append([]string{filepath.Join(root, "README.md")}, docs...)
	build := exec.Command("go", "build", "-o", binDir+"/", "../cmd/netctl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build netctl: %v\n%s", err, out)
	}
	tmp := t.TempDir()
	n := 0
	for _, doc := range docs {
		text, _ := os.ReadFile(doc)
		for _, c := range docCommands(t, filepath.Base(doc), string(text)) {
			args := c.args
			switch {
			case c.prog == "switchd":
				args = append(append([]string(nil), args...), "--version")
			case c.prog == "netctl":
				// What a document writes under /tmp/ goes to the test's
				// directory; the daemons (etcd, agent) parse their flags
				// and stop at --help instead of serving.
				args = nil
				daemon := false
				for _, a := range c.args {
					daemon = daemon || a == "etcd" || a == "agent"
					args = append(args, strings.ReplaceAll(a, "/tmp/", tmp+"/"))
				}
				if daemon {
					args = append(args, "--help")
				}
			}
			cmd := exec.Command(filepath.Join(binDir, c.prog), args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOKO_RUN_DIR="+tmp, "GOKO_NETCTL_STATE="+filepath.Join(tmp, "netctl.json"), "GOKO_NETCTL_ETCD=")
			cmd.Stdin = strings.NewReader("")
			out, _ := cmd.CombinedOutput()
			// A file the reader makes first (FILE.o) need not exist here.
			if code := cmd.ProcessState.ExitCode(); code == 2 && !strings.Contains(string(out), "no such file or directory") {
				t.Errorf("%s:%d: %s %s: bad usage\n%s", c.doc, c.line, c.prog, strings.Join(c.args, " "), out)
			}
			n++
		}
	}
	if n < 30 {
		t.Errorf("only %d commands found in the documents", n)
	}
	t.Logf("%d commands checked", n)
}

// TestDocShellBlocks: every ```sh block of README.md and docs/*.md is
// valid bash (bash -n), so that a reader who pastes a block (the tenant
// walkthrough, the multi-host setup) does not stop at a quoting or loop
// typo. TestDocCommands checks the goko commands in them.
func TestDocShellBlocks(t *testing.T) {
	root, _ := filepath.Abs("..")
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append([]string{filepath.Join(root, "README.md")}, docs...)
	n := 0
	for _, doc := range docs {
		text, _ := os.ReadFile(doc)
		lines := strings.Split(string(text), "\n")
		for i := 0; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) != "```sh" {
				continue
			}
			start := i + 1
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
			}
			block := strings.Join(lines[start:i], "\n")
			if out, err := exec.Command("bash", "-n", "-c", block).CombinedOutput(); err != nil {
				t.Errorf("%s:%d: the sh block is not valid bash: %v\n%s", filepath.Base(doc), start, err, out)
			}
			n++
		}
	}
	if n < 10 {
		t.Errorf("only %d sh blocks found in the documents", n)
	}
	t.Logf("%d sh blocks parsed", n)
}
