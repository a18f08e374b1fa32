// Package version describes the build of a goko binary, for --version,
// from what the Go toolchain records in it (runtime/debug.ReadBuildInfo):
// the module version, and for builds from a git checkout the commit, its
// time and whether the tree had uncommitted changes.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info is what a binary knows about its build.
type Info struct {
	Module    string // module path
	Version   string // module version; "(devel)" for a build from a checkout
	Revision  string // VCS revision, when built from a checkout
	Time      string // commit time (RFC 3339), when known
	Modified  bool   // the checkout had uncommitted changes
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the --version line of program prog, e.g.
//
//	switchd (goko) (devel) commit 3253652a1b2c (2026-12-07T10:11:12Z, dirty) go1.26.8
func (in Info) String(prog string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (goko) %s", prog, in.Version)
	if in.Revision != "" {
		rev := in.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		fmt.Fprintf(&b, " commit %s", rev)
		var notes []string
		if in.Time != "" {
			notes = append(notes, in.Time)
		}
		if in.Modified {
			notes = append(notes, "dirty")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
		}
	}
	if in.GoVersion != "" {
		b.WriteString(" " + in.GoVersion)
	}
	return b.String()
}

// Line is Read().String(prog).
func Line(prog string) string { return Read().String(prog) }
