package main

import (
	"bytes"
	"os"
	"strconv"
	"testing"
)

// startupCanary lives in the binary's .data, a writable private mapping
// of the file: the write in the test makes its page the process's own.
var startupCanary = [4]int{1, 2, 3, 4}

// TestReleaseStartupPagesKeepsWrittenData: dropping the pages of a
// mapping that holds a written page would silently give back the file's
// bytes (here the canary's initial 1, or a library's unrelocated GOT);
// only clean read-only mappings may go.
func TestReleaseStartupPagesKeepsWrittenData(t *testing.T) {
	startupCanary[0] = 42
	releaseStartupPages()
	if startupCanary[0] != 42 {
		t.Fatalf("canary in .data is %d after releaseStartupPages, want 42", startupCanary[0])
	}
}

// TestReleaseStartupPagesLowersFileRSS: the pages start-up touched in the
// binary no longer count in the process's RSS (RssFile), which is the
// point of the call for `aiotorrent tracker`.
func TestReleaseStartupPagesLowersFileRSS(t *testing.T) {
	before := rssFileKiB(t)
	releaseStartupPages()
	after := rssFileKiB(t)
	if after >= before {
		t.Fatalf("RssFile %d KiB before, %d after: want lower", before, after)
	}
	t.Logf("RssFile %d KiB before, %d after", before, after)
}

func rssFileKiB(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(status) {
		if f := bytes.Fields(line); len(f) >= 2 && string(f[0]) == "RssFile:" {
			n, err := strconv.Atoi(string(f[1]))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
