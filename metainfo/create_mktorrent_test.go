package metainfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// needMktorrent returns mktorrent's path. CI installs it (see .ci/run), so
// there its absence is a failure; elsewhere the test is skipped.
func needMktorrent(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("mktorrent")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mktorrent is not installed, and CI must run the interop test (apt-get install -y mktorrent)")
		}
		t.Skip("mktorrent is not installed (apt-get install -y mktorrent); skipping the interop test")
	}
	return path
}

// TestMktorrentSameInfoHash runs the real mktorrent and Create on the same
// data, piece length and name, and compares info-hashes.
func TestMktorrentSameInfoHash(t *testing.T) {
	mktorrent := needMktorrent(t)
	dir := t.TempDir()
	single := filepath.Join(dir, "single.bin")
	writeFile(t, single, fixtureData(11, 1<<20+123))
	multi := filepath.Join(dir, "tree")
	for _, f := range []struct {
		rel string
		n   int
	}{
		{"a.txt", 70000}, {"a/x.bin", 300000}, {"a-b/y", 5}, {"a/z/deep.bin", 1 << 18},
		{".hidden/h", 17}, {"empty", 0}, {"Upper", 9}, {"z", 262144},
	} {
		writeFile(t, filepath.Join(multi, filepath.FromSlash(f.rel)), fixtureData(byte(f.n), f.n))
	}
	tests := []struct {
		name, path string
		log2       int
		private    bool
		source     string
		rename     string
	}{
		{name: "single 256 KiB", path: single, log2: 18},
		{name: "single 32 KiB", path: single, log2: 15},
		{name: "multi 256 KiB", path: multi, log2: 18},
		{name: "multi 32 KiB private source renamed", path: multi, log2: 15, private: true, source: "SRC", rename: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.torrent")
			args := []string{"-d", "-l", strconv.Itoa(tt.log2), "-a", testAnnounce, "-o", out}
			if tt.private {
				args = append(args, "-p")
			}
			if tt.source != "" {
				args = append(args, "-s", tt.source)
			}
			if tt.rename != "" {
				args = append(args, "-n", tt.rename)
			}
			if b, err := exec.Command(mktorrent, append(args, tt.path)...).CombinedOutput(); err != nil {
				t.Fatalf("mktorrent %v: %v\n%s", args, err, b)
			}
			want, err := Load(out)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := CreateSync(CreateOptions{
				Path: tt.path, Announce: [][]string{{testAnnounce}}, PieceLength: 1 << tt.log2,
				Private: tt.private, Source: tt.source, Name: tt.rename,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.InfoHash != want.InfoHash {
				t.Errorf("info-hash: got %x, mktorrent %x\nours %q\nmktorrent %q",
					got.InfoHash, want.InfoHash, got.InfoBytes, want.InfoBytes)
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
