package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// The binary as a user runs it: a tracker, a seeder and a download, each a
// process of its own. A download killed with SIGKILL leaves nothing on
// disk but verified pieces and resumes without fetching them again; one
// stopped with SIGINT exits 130 and tells the tracker it stopped.

// resumeSizes is a ~24 MiB multi-file payload whose last piece is short.
var resumeSizes = []struct {
	name string
	size int
}{
	{"big.bin", 16<<20 + 333},
	{"dir/mid.bin", 7<<20 + 12_345},
	{"dir/tiny.txt", 17},
}

const (
	resumePieceLen = 256 << 10
	childTimeout   = 90 * time.Second // no child outlives this
	waitTimeout    = 30 * time.Second // for any one condition
)

// resumeFixture is a torrent of a fresh payload, announced to a tracker
// that runs as `aiotorrent tracker`, and one `aiotorrent seed` for it.
type resumeFixture struct {
	bin, src, torrentPath, announce string
	meta                            *metainfo.Torrent
}

func newResumeFixture(t *testing.T, bin string) *resumeFixture {
	t.Helper()
	root := t.TempDir()
	f := &resumeFixture{bin: bin, src: filepath.Join(root, "src"), torrentPath: filepath.Join(root, "p.torrent")}
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	for _, file := range resumeSizes {
		data := make([]byte, file.size)
		rng.Read(data)
		p := filepath.Join(f.src, "payload", filepath.FromSlash(file.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The tracker's default interval (30 min): a peer it forgets must
	// have said "stopped", not merely gone quiet.
	tr := startProc(t, bin, "tracker", "--http", "127.0.0.1:0", "--udp", "")
	line := tr.waitLine(t, func(l string) bool { return strings.Contains(l, "/announce") })
	f.announce = strings.TrimSpace(line)
	meta, raw, err := metainfo.CreateSync(metainfo.CreateOptions{
		Path: filepath.Join(f.src, "payload"), PieceLength: resumePieceLen,
		Announce: [][]string{{f.announce}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if meta.Length%resumePieceLen == 0 {
		t.Fatal("the payload fills its last piece: the test wants a short one")
	}
	f.meta = meta
	if err := os.WriteFile(f.torrentPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	startProc(t, bin, "seed", f.torrentPath, f.src, "--port", "0", "-q", "--no-dht")
	f.waitSwarm(t, "the seeder registered", func(s tracker.ScrapeStats) bool { return s.Complete == 1 })
	return f
}

// waitSwarm polls the tracker's scrape until cond holds.
func (f *resumeFixture) waitSwarm(t *testing.T, what string, cond func(tracker.ScrapeStats) bool) {
	t.Helper()
	var last tracker.ScrapeStats
	var lastErr error
	for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		last, lastErr = f.scrape()
		if lastErr == nil && cond(last) {
			return
		}
	}
	t.Fatalf("waiting for %s: tracker says %+v (error %v)", what, last, lastErr)
}

func (f *resumeFixture) scrape() (tracker.ScrapeStats, error) {
	return aio.Run(func(t *aio.Task) (tracker.ScrapeStats, error) {
		tr, err := tracker.New(f.announce, tracker.Config{Timeout: 2 * time.Second})
		if err != nil {
			return tracker.ScrapeStats{}, err
		}
		st, err := tr.(tracker.Scraper).Scrape(t, [][20]byte{f.meta.InfoHash})
		return st[f.meta.InfoHash], err
	})
}

// download starts `aiotorrent download` into dst (plain progress lines,
// since its stdout is a pipe) with extra flags.
func (f *resumeFixture) download(t *testing.T, dst string, extra ...string) *proc {
	args := append([]string{"download", f.torrentPath, "-o", dst, "--port", "0", "--no-dht"}, extra...)
	return startProc(t, f.bin, args...)
}

// onDisk checks that every byte the download wrote is the payload's: a
// byte that is neither the right one nor absent (zero, or past the end of
// a file) is unverified data. It returns how many whole pieces are there.
func (f *resumeFixture) onDisk(t *testing.T, dst string) int {
	t.Helper()
	want, got := f.readAll(t, f.src), f.readAll(t, dst)
	for i := range want {
		if got[i] != want[i] && got[i] != 0 {
			t.Fatalf("byte %d (piece %d) on disk is %#x, want %#x or nothing: unverified data was written",
				i, i/resumePieceLen, got[i], want[i])
		}
	}
	whole := 0
	for off := 0; off < len(want); off += resumePieceLen {
		end := min(off+resumePieceLen, len(want))
		if bytes.Equal(want[off:end], got[off:end]) {
			whole++
		}
	}
	return whole
}

// readAll lays the torrent's files under dir end to end; a missing or
// short file reads as zeros.
func (f *resumeFixture) readAll(t *testing.T, dir string) []byte {
	t.Helper()
	out := make([]byte, 0, f.meta.Length)
	for _, fe := range f.meta.Layout().Files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(fe.Path)))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if int64(len(b)) > fe.Length {
			t.Fatalf("%s holds %d bytes, more than its %d", fe.Path, len(b), fe.Length)
		}
		out = append(out, b...)
		out = append(out, make([]byte, fe.Length-int64(len(b)))...)
	}
	return out
}

// bytesOnDisk is what the files under dir occupy: sparse files grow only
// where pieces were written.
func bytesOnDisk(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// TestDownloadKilledResumes kills a download with SIGKILL part-way, checks
// that only verified data is on disk, and restarts it: it completes with
// the same bytes without fetching again what was there.
func TestDownloadKilledResumes(t *testing.T) {
	f := newResumeFixture(t, buildCLI(t))
	dst := t.TempDir()
	// Slow enough (6 s) to be killed part-way; the check below fails
	// loudly if it ever was not.
	first := f.download(t, dst, "--max-download-rate", "4MiB")
	waitUntil(t, "6 MiB on disk", func() bool { return bytesOnDisk(dst) >= 6<<20 })
	first.kill(t)
	whole := f.onDisk(t, dst)
	if whole == 0 || whole == f.meta.NumPieces() {
		t.Fatalf("%d of %d pieces on disk after the kill: want some, not all", whole, f.meta.NumPieces())
	}
	t.Logf("killed with %d of %d pieces on disk", whole, f.meta.NumPieces())

	second := f.download(t, dst)
	if code := second.wait(t); code != exitOK {
		t.Fatalf("restarted download: exit %d, want %d\n%s", code, exitOK, second.output())
	}
	if got := f.onDisk(t, dst); got != f.meta.NumPieces() {
		t.Fatalf("%d of %d pieces after the restart, want all", got, f.meta.NumPieces())
	}
	got, err := downloadedFromSummary(second.output())
	if err != nil {
		t.Fatal(err)
	}
	// What was on disk is not fetched again: the summary's average rate
	// times its time is the bytes downloaded (to its rounding, and
	// give or take a piece caught half-written and endgame duplicates).
	t.Logf("the restart downloaded ~%.0f of %d bytes", got, f.meta.Length)
	if limit := float64(f.meta.Length) - 0.5*float64(whole*resumePieceLen); got > limit {
		t.Errorf("restart downloaded ~%.0f bytes, want at most %.0f: the %d pieces on disk were fetched again",
			got, limit, whole)
	}
}

// TestDownloadInterrupted sends SIGINT to a download: exit code 130, the
// tracker told "stopped", nothing unverified on disk.
func TestDownloadInterrupted(t *testing.T) {
	f := newResumeFixture(t, buildCLI(t))
	dst := t.TempDir()
	d := f.download(t, dst, "--max-download-rate", "2MiB")
	f.waitSwarm(t, "the download announced", func(s tracker.ScrapeStats) bool { return s.Incomplete == 1 })
	waitUntil(t, "1 MiB on disk", func() bool { return bytesOnDisk(dst) >= 1<<20 })
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(t); code != exitInterrupt {
		t.Fatalf("exit %d after SIGINT, want %d\n%s", code, exitInterrupt, d.output())
	}
	// "stopped" reached the tracker before the process exited: the
	// leecher is gone at once (it would otherwise stay for an hour).
	if st, err := f.scrape(); err != nil || st.Incomplete != 0 || st.Complete != 1 {
		t.Errorf("after SIGINT the tracker says %+v (error %v), want the seeder alone", st, err)
	}
	if whole := f.onDisk(t, dst); whole == f.meta.NumPieces() {
		t.Errorf("the download completed before SIGINT: the test proves nothing")
	}
}

// downloadedFromSummary reads "NAME: SIZE in TIME (RATE/s), N peers used"
// and returns RATE × TIME, the bytes this run downloaded.
func downloadedFromSummary(out string) (float64, error) {
	re := regexp.MustCompile(`: [0-9.]+ [KMGT]?i?B in (\S+) \(([0-9.]+) ([KMGT]i)?B/s\)`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no summary line in the output:\n%s", out)
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		return 0, fmt.Errorf("summary time %q: %w", m[1], err)
	}
	rate, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		return 0, fmt.Errorf("summary rate %q: %w", m[2], err)
	}
	rate *= map[string]float64{"": 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}[m[3]]
	return rate * d.Seconds(), nil
}

// buildCLI builds the aiotorrent binary into the test's temporary
// directory (the build cache makes the second build a link).
func buildCLI(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aiotorrent")
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// waitUntil polls cond every 10 ms, for at most waitTimeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// proc is a child process whose output can be watched while it runs.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer // stdout, then stderr lines as they come
	done chan struct{}
}

// startProc runs the binary with args, killed when the test ends or after
// childTimeout; its output is logged if the test fails.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	p := &proc{cmd: exec.CommandContext(ctx, bin, args...), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var copying sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		copying.Add(1)
		go func() {
			defer copying.Done()
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				p.mu.Lock()
				p.out.WriteString(sc.Text() + "\n")
				p.mu.Unlock()
			}
		}()
	}
	go func() {
		copying.Wait() // the pipes must be drained before Wait
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if t.Failed() {
			t.Logf("aiotorrent %s:\n%s", strings.Join(args, " "), p.output())
		}
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitLine waits for a line of output that match accepts and returns it.
func (p *proc) waitLine(t *testing.T, match func(string) bool) string {
	t.Helper()
	var found string
	waitUntil(t, "a line of output", func() bool {
		for _, l := range strings.Split(p.output(), "\n") {
			if match(l) {
				found = l
				return true
			}
		}
		return false
	})
	return found
}

// wait waits for the process to exit and returns its exit code (-1 when
// a signal killed it).
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(childTimeout):
		t.Fatal("child did not exit")
	}
	return p.cmd.ProcessState.ExitCode()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != -1 {
		t.Fatalf("exit %d after SIGKILL: it had finished already", code)
	}
}
