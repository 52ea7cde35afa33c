package main

import (
	"os"
	"strings"
	"testing"
)

// `demo --dht` has no tracker: the torrent names none, the seeders
// announce themselves on a local DHT, and the download finds them there
// and completes, checked byte for byte by the demo itself. It runs as a
// process so that a download that never finds a peer fails at the
// child's timeout instead of hanging the test binary.
func TestDemoDHTCompletesWithoutTracker(t *testing.T) {
	bin := buildCLI(t)
	p := startProc(t, bin, "demo", "--dht", "--size", "8MiB", "--seeders", "2")
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d, want 0; output:\n%s", code, p.output())
	}
	out := p.output()
	for _, want := range []string{
		"no tracker",
		"the DHT names all 2 seeders",
		"verified: the download is byte-for-byte identical to the original",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tracker on ") {
		t.Errorf("a tracker was started:\n%s", out)
	}
}

// TestDemoSaysItRemovesItsDirectory: the demo's summary says "saved in"
// a temporary directory that it then removed without a word.
func TestDemoSaysItRemovesItsDirectory(t *testing.T) {
	r := runCLI(t, "", "demo", "--size", "1MiB", "--seeders", "1")
	_, rest, ok := strings.Cut(r.out, "making a 1.0 MiB payload in ")
	root, _, _ := strings.Cut(rest, "\n")
	if r.code != exitOK || !ok || !strings.HasSuffix(r.out, "\nremoved "+root+" (--keep keeps it)\n") {
		t.Errorf("exit %d, stdout:\n%s\nwant 0, ending with removed %s (--keep keeps it)", r.code, r.out, root)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("%s: %v, want it removed", root, err)
	}
}
