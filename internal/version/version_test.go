package version

import (
	"runtime/debug"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/goko-net/goko", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "3253652a1b2c3d4e5f60718293a4b5c6d7e8f901"},
				{Key: "vcs.time", Value: "2026-12-07T10:11:12Z"}, {Key: "vcs.modified", Value: "true"}}},
			"ofctl (goko) (devel) commit 3253652a1b2c (2026-12-07T10:11:12Z, dirty) go1.26.8"},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/goko-net/goko", Version: "v0.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			"ofctl (goko) v0.2.0 commit abc go1.26.8"},
		{debug.BuildInfo{Main: debug.Module{Path: "github.com/goko-net/goko"}}, "ofctl (goko) (devel)"},
	} {
		if got := fromBuildInfo(&tc.bi).String("ofctl"); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
	if Read().Version == "" {
		t.Error("no version for the test binary")
	}
}
