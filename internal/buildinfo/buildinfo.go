// Package buildinfo says which build of ferry is running: the version and
// commit the Makefile links in, or what the Go build info records.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set at link time by the Makefile (-X); otherwise taken from the build info.
var (
	version = ""
	commit  = ""
)

// Info describes this build of ferry.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns this build's Info; the version is "devel" when nothing
// records one.
func Get() Info {
	v := Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v.Commit == "" {
				v.Commit = s.Value
			}
		}
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	return v
}

// UserAgent is what ferry sends to registries: "ferry/VERSION".
func UserAgent() string { return "ferry/" + Get().Version }

// Tool names this build in what it writes: "ferry VERSION".
func Tool() string { return "ferry " + Get().Version }
