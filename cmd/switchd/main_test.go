package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSystemdUnit: the flags contrib/systemd/switchd.service starts
// switchd with are flags switchd has, and systemd finds nothing wrong with
// the unit (where systemd-analyze is installed).
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("../../contrib/systemd/switchd.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ExecStart=(\S+)(.*)$`).FindSubmatch(unit)
	if m == nil || filepath.Base(string(m[1])) != "switchd" {
		t.Fatalf("no ExecStart running switchd in the unit")
	}
	args := strings.Fields(string(m[2]))
	saved, savedOut := os.Args, os.Stdout
	r, w, _ := os.Pipe()
	os.Args, os.Stdout = append(append([]string{"switchd"}, args...), "--version"), w
	err = run()
	os.Args, os.Stdout = saved, savedOut
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil || !bytes.HasPrefix(out, []byte("switchd (goko) ")) {
		t.Errorf("switchd %v --version: %v %q", args, err, out)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		return
	}
	// Verify a copy whose program exists here and which names no man
	// pages (systemd-analyze would look them up).
	tmp := filepath.Join(t.TempDir(), "switchd.service")
	text := regexp.MustCompile(`(?m)^ExecStart=\S+`).ReplaceAllString(string(unit), "ExecStart=/bin/true")
	text = regexp.MustCompile(`(?m)^Documentation=.*\n`).ReplaceAllString(text, "")
	os.WriteFile(tmp, []byte(text), 0o644)
	if out, err := exec.Command(analyze, "verify", tmp).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
