package main

import "runtime/debug"

// version is the release this binary is, set when building one:
//
//	go build -ldflags "-X main.version=v1.2.0" ./cmd/aiotorrent
//
// Left empty, Version asks the build information instead.
var version string

// Version is aiotorrent's version: the one set at build time, else the
// module's (a `go install ...@v1.2.0` knows it), else "devel", with the
// commit when the build recorded one.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if v == "devel" && rev != "" {
		v = "devel (" + rev[:min(12, len(rev))] + dirty + ")"
	}
	return v
}
