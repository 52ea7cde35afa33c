package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// testdataDir holds the fixtures shared by every package; see
// metainfo/fixtures_test.go for what each one holds.
const testdataDir = "../../testdata"

// result is one run of Main against buffers.
type result struct {
	code        int
	out, errOut string
}

// runCLI runs Main with args as the command line, stdin empty unless in
// is given, and returns the exit code and what was printed.
func runCLI(t *testing.T, in string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{In: strings.NewReader(in), Out: &out, Err: &errOut}
	code := Main(args, f)
	return result{code, out.String(), errOut.String()}
}

// parseCmd runs the command newCmd builds with a runF that records the
// options, so flag parsing is tested apart from behaviour.
func parseCmd[O any](newCmd func(*Factory, func(*O) error) *cobra.Command, args ...string) (*O, error) {
	var got *O
	var out bytes.Buffer
	cmd := newCmd(&Factory{In: strings.NewReader(""), Out: &out, Err: &out}, func(o *O) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	return got, nil
}

func TestCreateFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want CreateOptions // IO is not compared
	}{
		{"defaults", []string{"dir"}, CreateOptions{Path: "dir", Output: "dir.torrent"}},
		{"tiers", []string{"dir", "-a", "http://u1/a,udp://u2:1", "-a", "http://u3/a"}, CreateOptions{
			Path: "dir", Output: "dir.torrent",
			Announce: [][]string{{"http://u1/a", "udp://u2:1"}, {"http://u3/a"}},
		}},
		{"spaces around commas", []string{"x", "--announce", "http://u1/a , http://u2/a"}, CreateOptions{
			Path: "x", Output: "x.torrent", Announce: [][]string{{"http://u1/a", "http://u2/a"}},
		}},
		{"everything", []string{
			"data/", "-a", "http://t/a", "--piece-length", "256K", "--private", "--comment", "hi",
			"--web-seed", "http://w1/", "--web-seed", "http://w2/", "--source", "SRC", "--name", "n",
			"-o", "out.torrent", "--force", "--no-date",
		}, CreateOptions{
			Path: "data/", Announce: [][]string{{"http://t/a"}}, PieceLength: 256 << 10, Private: true,
			Comment: "hi", WebSeeds: []string{"http://w1/", "http://w2/"}, Source: "SRC", Name: "n",
			Output: "out.torrent", Force: true, NoDate: true,
		}},
		{"name sets the default output", []string{"a/b", "--name", "c"}, CreateOptions{Path: "a/b", Name: "c", Output: "c.torrent"}},
		{"piece length in bytes", []string{"f", "--piece-length", "16384"}, CreateOptions{Path: "f", Output: "f.torrent", PieceLength: 16384}},
		{"piece length MiB", []string{"f", "--piece-length", "4MiB"}, CreateOptions{Path: "f", Output: "f.torrent", PieceLength: 4 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCmd(NewCmdCreate, tt.args...)
			if err != nil {
				t.Fatalf("parse %q: %v", tt.args, err)
			}
			got.IO = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("parse %q:\n got %+v\nwant %+v", tt.args, *got, tt.want)
			}
		})
	}
}

// TestCreateUsageErrors checks that a bad command line is exit code 2 and
// creates nothing.
func TestCreateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "o.torrent")
	src := filepath.Join(testdataDir, "files", "single.dat")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no path", []string{"create", "-o", out}, "create needs one PATH"},
		{"two paths", []string{"create", src, src, "-o", out}, "create takes one PATH"},
		{"unknown flag", []string{"create", src, "--bogus", "-o", out}, "unknown flag"},
		{"not a URL", []string{"create", src, "-a", "tracker.example", "-o", out}, "not a URL"},
		{"websocket tracker", []string{"create", src, "-a", "wss://tracker.example/ws", "-o", out}, `unsupported URL scheme: "wss://tracker.example/ws" (want http://, https:// or udp://)`},
		{"ftp tracker in a tier", []string{"create", src, "-a", "http://a/,ftp://b/x", "-o", out}, `unsupported URL scheme: "ftp://b/x"`},
		{"udp tracker without a port", []string{"create", src, "-a", "udp://t.example", "-o", out}, `"udp://t.example": udp needs host:port`},
		{"empty web seed", []string{"create", src, "-w", "http://w/,", "-o", out}, "empty web seed URL"},
		{"piece length exponent too small", []string{"create", src, "-l", "13", "-o", out}, "power of two"},
		{"empty tier member", []string{"create", src, "-a", "http://a/,", "-o", out}, "empty tracker URL"},
		{"piece length not a power of two", []string{"create", src, "--piece-length", "20000", "-o", out}, "power of two"},
		{"piece length too small", []string{"create", src, "--piece-length", "8K", "-o", out}, "power of two"},
		{"piece length too big", []string{"create", src, "--piece-length", "512M", "-o", out}, "power of two"},
		{"piece length garbage", []string{"create", src, "--piece-length", "lots", "-o", out}, "bad size"},
		{"private without tracker", []string{"create", src, "--private", "-o", out}, "--private needs a tracker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", tt.args...)
			if r.code != exitUsage || !strings.Contains(r.errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.errOut, exitUsage, tt.wantErr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// TestCreateMatchesCreateSync runs create end to end and checks that the
// file is byte for byte what metainfo.CreateSync makes from the same
// options, and that info reads back the same info-hash.
func TestCreateMatchesCreateSync(t *testing.T) {
	tests := []struct {
		name string
		path string
		args []string
		opts metainfo.CreateOptions
	}{
		{"single file", "single.dat", nil, metainfo.CreateOptions{}},
		{"directory, tiers and all options", "multi", []string{
			"-a", "http://127.0.0.1:1/announce,udp://127.0.0.1:2", "-a", "http://127.0.0.1:3/announce",
			"--piece-length", "32K", "--private", "--comment", "a comment", "--web-seed", "http://127.0.0.1:4/",
			"--source", "SRC", "--name", "renamed",
		}, metainfo.CreateOptions{
			Announce:    [][]string{{"http://127.0.0.1:1/announce", "udp://127.0.0.1:2"}, {"http://127.0.0.1:3/announce"}},
			PieceLength: 32 << 10, Private: true, Comment: "a comment", WebSeeds: []string{"http://127.0.0.1:4/"},
			Source: "SRC", Name: "renamed",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := filepath.Join(testdataDir, "files", tt.path)
			out := filepath.Join(t.TempDir(), "out.torrent")
			r := runCLI(t, "", append([]string{"create", src, "--no-date", "-o", out}, tt.args...)...)
			if r.code != exitOK {
				t.Fatalf("create: exit %d, stderr %q", r.code, r.errOut)
			}
			opts := tt.opts
			opts.Path, opts.NoCreationDate = src, true
			wantMeta, want, err := metainfo.CreateSync(opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("create wrote %q,\nCreateSync made %q", got, want)
			}
			wantOut := "info-hash " + wantMeta.HexInfoHash() + "\nwrote " + out
			if !strings.HasPrefix(r.out, wantOut) {
				t.Errorf("stdout %q, want it to start with %q", r.out, wantOut)
			}

			ri := runCLI(t, "", "info", "--json", out)
			var info infoJSON
			if err := json.Unmarshal([]byte(ri.out), &info); err != nil || ri.code != exitOK {
				t.Fatalf("info --json: exit %d, %v; stderr %q", ri.code, err, ri.errOut)
			}
			if info.InfoHash != wantMeta.HexInfoHash() {
				t.Errorf("info reads info-hash %s, want %s", info.InfoHash, wantMeta.HexInfoHash())
			}
		})
	}
}

// TestCreateMatchesMktorrent compares with the .torrent mktorrent made of
// testdata/files/multi (mktorrent -d -l 15 -a http://127.0.0.1:1/announce):
// same files, piece length and name must give the same info-hash.
func TestCreateMatchesMktorrent(t *testing.T) {
	want, err := metainfo.Load(filepath.Join(testdataDir, "mktorrent-multi.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "multi.torrent")
	r := runCLI(t, "", "create", filepath.Join(testdataDir, "files", "multi"),
		"-a", "http://127.0.0.1:1/announce", "--piece-length", "32K", "-o", out)
	if r.code != exitOK {
		t.Fatalf("create: exit %d, stderr %q", r.code, r.errOut)
	}
	got, err := metainfo.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.InfoHash != want.InfoHash {
		t.Errorf("info-hash %s, mktorrent's %s", got.HexInfoHash(), want.HexInfoHash())
	}
}

func TestCreateRefusesToOverwrite(t *testing.T) {
	src := filepath.Join(testdataDir, "files", "single.dat")
	out := filepath.Join(t.TempDir(), "out.torrent")
	old := []byte("precious")
	if err := os.WriteFile(out, old, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "create", src, "-o", out)
	if r.code != exitFailure || !strings.Contains(r.errOut, "--force") {
		t.Errorf("exit %d, stderr %q; want %d and a hint at --force", r.code, r.errOut, exitFailure)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, old) {
		t.Errorf("the file now holds %q, want it untouched", got)
	}

	r = runCLI(t, "", "create", src, "-o", out, "--force")
	if r.code != exitOK {
		t.Fatalf("--force: exit %d, stderr %q", r.code, r.errOut)
	}
	if _, err := metainfo.Load(out); err != nil {
		t.Errorf("--force wrote something unreadable: %v", err)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode after --force: %v (%v), want 0644", st.Mode().Perm(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".aiotorrent-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

// TestCreateDefaultOutput checks that with no -o the torrent lands in the
// current directory as NAME.torrent.
func TestCreateDefaultOutput(t *testing.T) {
	src, err := filepath.Abs(filepath.Join(testdataDir, "files", "multi"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if r := runCLI(t, "", "create", src); r.code != exitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
	m, err := metainfo.Load("multi.torrent")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "multi" || m.CreationDate.IsZero() || m.CreatedBy != "aiotorrent" {
		t.Errorf("name %q, date %v, created by %q; want multi, now, aiotorrent", m.Name, m.CreationDate, m.CreatedBy)
	}
}

func TestCreateFailures(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, wantErr string
	}{
		{"missing path", filepath.Join(dir, "nope"), "no such file"},
		{"empty directory", empty, "no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".torrent")
			r := runCLI(t, "", "create", tt.path, "-o", out)
			if r.code != exitFailure || !strings.Contains(r.errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.errOut, exitFailure, tt.wantErr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

func TestParsePieceLength(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"16384", 16 << 10, true},
		{"16K", 16 << 10, true},
		{"16KiB", 16 << 10, true},
		{"1M", 1 << 20, true},
		{"256MiB", 256 << 20, true},
		{"512MiB", 0, false},
		{"8K", 0, false},
		{"16KB", 0, false}, // 16,000 bytes
		{"1.5M", 0, false},
		{"-16K", 0, false},
		{"0", 0, false},
		{"18", 256 << 10, true}, // mktorrent's -l 18
		{"14", 16 << 10, true},
		{"28", 256 << 20, true},
		{"13", 0, false},
		{"29", 0, false},
		{"K", 0, false},
	}
	for _, tt := range tests {
		got, err := parsePieceLength(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parsePieceLength(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestProgressOnTerminal checks that create and verify draw their bars on
// stderr when it is a terminal, and that stdout holds the same summary as
// off a terminal.
func TestProgressOnTerminal(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.torrent")
	tests := []struct {
		args     []string
		wantBar  string
		wantOut  string
		wantCode int
	}{
		{[]string{"create", filepath.Join(testdataDir, "files", "multi"), "-o", out}, "hashing", "info-hash ", exitOK},
		{[]string{"verify", filepath.Join(testdataDir, "multi.torrent"), filepath.Join(testdataDir, "files")}, "checking", "4/4 pieces good", exitOK},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		f := &Factory{In: strings.NewReader(""), Out: &stdout, Err: &stderr, IsTerminal: true}
		if code := Main(tt.args, f); code != tt.wantCode {
			t.Errorf("%s: exit %d, want %d (stderr %q)", tt.args[0], code, tt.wantCode, stderr.String())
		}
		if !strings.Contains(stderr.String(), tt.wantBar) {
			t.Errorf("%s: stderr %q, want a %q bar", tt.args[0], stderr.String(), tt.wantBar)
		}
		if !strings.Contains(stdout.String(), tt.wantOut) || strings.Contains(stdout.String(), tt.wantBar) {
			t.Errorf("%s: stdout %q, want %q and no bar", tt.args[0], stdout.String(), tt.wantOut)
		}
	}
}

// TestCreateShortFlagsAreMktorrents: each of mktorrent's short flags
// writes the same bytes as our long flag, -l taking mktorrent's exponent.
func TestCreateShortFlagsAreMktorrents(t *testing.T) {
	src := filepath.Join(testdataDir, "files", "multi")
	tests := []struct {
		name        string
		short, long []string
	}{
		{"-a", []string{"-a", "udp://127.0.0.1:2"}, []string{"--announce", "udp://127.0.0.1:2"}},
		{"-l exponent", []string{"-l", "15", "--no-tracker"}, []string{"--piece-length", "32K", "--no-tracker"}},
		{"-p", []string{"-p", "-a", "http://t/a"}, []string{"--private", "-a", "http://t/a"}},
		{"-c", []string{"-c", "a comment", "--no-tracker"}, []string{"--comment", "a comment", "--no-tracker"}},
		{"-n", []string{"-n", "renamed", "--no-tracker"}, []string{"--name", "renamed", "--no-tracker"}},
		{"-w, commas as in mktorrent", []string{"-w", "http://w1/,http://w2/", "--no-tracker"},
			[]string{"--web-seed", "http://w1/", "--web-seed", "http://w2/", "--no-tracker"}},
		{"-s", []string{"-s", "SRC", "--no-tracker"}, []string{"--source", "SRC", "--no-tracker"}},
	}
	create := func(t *testing.T, args []string) []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out.torrent")
		r := runCLI(t, "", append([]string{"create", src, "--no-date", "-o", out}, args...)...)
		if r.code != exitOK {
			t.Fatalf("create %q: exit %d, stderr %q", args, r.code, r.errOut)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plain := create(t, []string{"--no-tracker"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			short, long := create(t, tt.short), create(t, tt.long)
			if !bytes.Equal(short, long) {
				t.Errorf("%q wrote %q,\n%q wrote %q", tt.short, short, tt.long, long)
			}
			if bytes.Equal(short, plain) {
				t.Errorf("%q wrote the same torrent as no flag at all", tt.short)
			}
		})
	}
	// -d and -o: the two runs above would differ in their creation dates
	// and paths without them.
	a, b := filepath.Join(t.TempDir(), "a.torrent"), filepath.Join(t.TempDir(), "b.torrent")
	runCLI(t, "", "create", src, "-d", "-o", a, "--no-tracker")
	runCLI(t, "", "create", src, "--no-date", "--output", b, "--no-tracker")
	ga, _ := os.ReadFile(a)
	gb, _ := os.ReadFile(b)
	if len(ga) == 0 || !bytes.Equal(ga, gb) {
		t.Errorf("-d -o wrote %q, --no-date --output %q", ga, gb)
	}
}

// TestCreateWarnsWithoutTracker: a torrent with no tracker is said to be
// one on stderr, still written, unless --no-tracker says it is meant.
func TestCreateWarnsWithoutTracker(t *testing.T) {
	src := filepath.Join(testdataDir, "files", "single.dat")
	const warning = "no tracker: peers can find it only through the DHT, PEX, LSD or --peer"
	tests := []struct {
		args []string
		warn bool
	}{
		{nil, true},
		{[]string{"--no-tracker"}, false},
		{[]string{"-a", "http://127.0.0.1:1/announce"}, false},
		{[]string{"-w", "http://127.0.0.1:1/"}, true}, // a web seed gives pieces, not peers
	}
	for _, tt := range tests {
		out := filepath.Join(t.TempDir(), "out.torrent")
		r := runCLI(t, "", append([]string{"create", src, "-o", out}, tt.args...)...)
		if r.code != exitOK {
			t.Fatalf("%q: exit %d, stderr %q", tt.args, r.code, r.errOut)
		}
		if got := strings.Contains(r.errOut, warning); got != tt.warn {
			t.Errorf("%q: stderr %q; warning %v, want %v", tt.args, r.errOut, got, tt.warn)
		}
		if strings.Contains(r.out, warning) {
			t.Errorf("%q: the warning went to stdout %q", tt.args, r.out)
		}
		if _, err := metainfo.Load(out); err != nil {
			t.Errorf("%q: %v", tt.args, err)
		}
	}
}

// TestCreateTakesMktorrentsCommandLine gives mktorrent and create the same
// arguments and compares what they wrote: the info dict byte for byte,
// the trackers, the comment and the web seeds.
func TestCreateTakesMktorrentsCommandLine(t *testing.T) {
	mktorrent, err := exec.LookPath("mktorrent")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mktorrent is not installed, and CI must run the interop test (apt-get install -y mktorrent)")
		}
		t.Skip("mktorrent is not installed; skipping")
	}
	src := filepath.Join(testdataDir, "files", "multi")
	args := []string{"-d", "-l", "15", "-p", "-c", "a comment", "-n", "renamed", "-s", "SRC",
		"-w", "http://127.0.0.1:4/a,http://127.0.0.1:4/b", "-a", "http://127.0.0.1:1/announce,udp://127.0.0.1:2",
		"-a", "http://127.0.0.1:3/announce"}
	dir := t.TempDir()
	theirs, ours := filepath.Join(dir, "theirs.torrent"), filepath.Join(dir, "ours.torrent")
	if b, err := exec.Command(mktorrent, append(args, "-o", theirs, src)...).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent %q: %v\n%s", args, err, b)
	}
	if r := runCLI(t, "", append(append([]string{"create"}, args...), "-o", ours, src)...); r.code != exitOK {
		t.Fatalf("create %q: exit %d, stderr %q", args, r.code, r.errOut)
	}
	want, err := metainfo.Load(theirs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := metainfo.Load(ours)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.InfoBytes, want.InfoBytes) {
		t.Errorf("info dict %q,\nmktorrent's %q", got.InfoBytes, want.InfoBytes)
	}
	if !reflect.DeepEqual(got.AnnounceList, want.AnnounceList) || got.Comment != want.Comment ||
		!reflect.DeepEqual(got.URLList, want.URLList) {
		t.Errorf("trackers %q, comment %q, web seeds %q;\nmktorrent's %q, %q, %q",
			got.AnnounceList, got.Comment, got.URLList, want.AnnounceList, want.Comment, want.URLList)
	}
}
