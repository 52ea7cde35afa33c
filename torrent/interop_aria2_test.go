package torrent

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// Interop with aria2c (Debian package "aria2") and opentracker (package
// "opentracker"), both run as child processes on loopback: aria2c seeds
// while our client downloads, through our tracker and through opentracker,
// and aria2c downloads while our client seeds. INTEROP.md has the flags.
//
// Every child is killed when its test ends (and aria2c also exits by
// itself if the test process dies: --stop-with-process), and every wait is
// bounded: a child by its context, a download by AwaitTimeout.

// interopSizes is a multi-file payload of ~3.3 MiB whose last piece (of
// interopPieceLen) is short and whose pieces straddle files.
var interopSizes = map[string]int{
	"a.bin":       1<<20 + 12_345,
	"sub/b.bin":   2<<20 + 999,
	"sub/c.txt":   5,
	"zz/last.bin": 300_001,
}

const (
	interopPieceLen = 64 << 10
	interopTimeout  = 60 * time.Second
)

// needTool returns the path of an external program, skipping the test
// when it is missing, or failing it under CI, where .ci/run installs it.
func needTool(t *testing.T, name, debPackage string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not installed (apt-get install -y %s); required when CI=true", name, debPackage)
	}
	t.Skipf("%s not installed: apt-get install -y %s to run the interop tests", name, debPackage)
	return ""
}

// child is an external process run for one test.
type child struct {
	name string
	cmd  *exec.Cmd
	out  bytes.Buffer // stdout and stderr; read only after done
	done chan struct{}
	err  error // Wait's result, set before done is closed
}

// startChild starts bin in dir ("" for ours), killed after timeout or
// when the test ends; its output is logged if the test fails.
func startChild(t *testing.T, timeout time.Duration, dir, bin string, args ...string) *child {
	t.Helper()
	return startChildWith(t, timeout, dir, nil, bin, args...)
}

// startChildWith is startChild with setup, if not nil, called on the
// command before it starts (to add a stdin pipe, or to read the output
// as it comes: whatever it sets as Stdout and Stderr must end up in
// the one they hold, which is read only once the child is done).
func startChildWith(t testing.TB, timeout time.Duration, dir string, setup func(*exec.Cmd), bin string, args ...string) *child {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	c := &child{name: filepath.Base(bin), done: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, bin, args...)
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	c.cmd.WaitDelay = 5 * time.Second // output pipes held open by a grandchild
	if setup != nil {
		setup(c.cmd)
	}
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		cancel() // kills it, if still running
		<-c.done
		if t.Failed() {
			// The tail: a libtorrent peer run with --alerts logs every message.
			t.Logf("%s %s output (last 256 KiB):\n%s", c.name, strings.Join(args, " "), tail(c.out.Bytes(), 256<<10))
		}
	})
	return c
}

// wait parks the task until the child exits (bounded by its timeout).
func (c *child) wait(t *aio.Task) error {
	_, err := aio.Blocking(t, func() (struct{}, error) {
		<-c.done
		return struct{}{}, c.err
	})
	return err
}

// aria2Args are the flags that keep aria2c on loopback, quiet, and tied to
// this process, for a torrent whose data lives in (or goes to) dir. The
// log goes to a file that is printed if the test fails.
func aria2Args(t *testing.T, dir string, extra ...string) []string {
	t.Helper()
	port := freeTCPPort(t)
	logPath := filepath.Join(t.TempDir(), "aria2.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("aria2c log (last 8 KiB):\n%s", tail(b, 8<<10))
		}
	})
	args := []string{
		"--no-conf",
		"--enable-dht=false", "--enable-dht6=false", // also turns off UDP trackers
		"--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--disable-ipv6=true",
		// A range, in case the free port was taken since: aria2c binds
		// the first one it can.
		fmt.Sprintf("--listen-port=%d-%d", port, port+9),
		"--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=5",
		// Re-announce every second, so peers that announce after it
		// are found quickly.
		"--bt-tracker-interval=1",
		"--summary-interval=0", "--show-console-readout=false", "--console-log-level=warn",
		fmt.Sprintf("--stop-with-process=%d", os.Getpid()),
		"--log=" + logPath, "--log-level=info",
		"--dir=" + dir,
	}
	return append(args, extra...)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// interopSwarm writes the payload under a fresh src directory and a
// .torrent for it announcing to url. The swarm has no tracker field: the
// tracker is whatever url points at.
func interopSwarm(t *testing.T, url string) (*swarm, string) {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(root, "src")
	writePayload(t, filepath.Join(src, "payload"), interopSizes)
	meta, raw, err := metainfo.CreateSync(metainfo.CreateOptions{
		Path: filepath.Join(src, "payload"), PieceLength: interopPieceLen,
		Announce: [][]string{{url}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if meta.Length%interopPieceLen == 0 {
		t.Fatalf("payload of %d bytes fills its last piece: the test wants a short one", meta.Length)
	}
	path := filepath.Join(root, "payload.torrent")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return &swarm{t: t, meta: meta, src: src}, path
}

// waitSeeders polls the tracker's scrape until it counts at least n
// seeders of ih: another process is ready when the tracker says so.
func waitSeeders(at *aio.Task, url string, ih [20]byte, n int) error {
	tr, err := tracker.New(url, tracker.Config{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	var last error
	for range 200 { // 200 × 50 ms
		stats, err := tr.(tracker.Scraper).Scrape(at, [][20]byte{ih})
		if err == nil && stats[ih].Complete >= n {
			return nil
		}
		last = err
		if err := aio.Sleep(at, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("tracker %s never counted %d seeders (last error: %v)", url, n, last)
}

// leechFromAria2 starts aria2c seeding sw's data, waits until the tracker
// at url knows it, and downloads into dst with our client.
func leechFromAria2(t *testing.T, at *aio.Task, aria2, url, torrentPath string, sw *swarm, dst string) error {
	startChild(t, interopTimeout+10*time.Second, "", aria2,
		aria2Args(t, sw.src, "--check-integrity=true", "--seed-ratio=0.0", torrentPath)...)
	if err := waitSeeders(at, url, sw.meta.InfoHash, 1); err != nil {
		return err
	}
	leech, h, err := sw.node(at, "leecher", dst, false, nil)
	if err != nil {
		return err
	}
	if _, err := aio.AwaitTimeout(at, h, interopTimeout); err != nil {
		return fmt.Errorf("download from aria2c: %w (progress %+v)", err, leech.Progress())
	}
	if p := leech.Progress(); !p.Complete || p.Downloaded < p.Total || p.PeersSeen == 0 {
		return fmt.Errorf("progress %+v: want complete, every byte downloaded, from a peer", p)
	}
	return nil
}

func TestAria2SeedsThroughOurTracker(t *testing.T) {
	aria2 := needTool(t, "aria2c", "aria2")
	dst := t.TempDir()
	var src string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		srv, err := tracker.Serve(at, tracker.ServerConfig{HTTPAddr: loopback, Interval: time.Second})
		if err != nil {
			return struct{}{}, err
		}
		defer srv.Close()
		sw, torrentPath := interopSwarm(t, srv.AnnounceURL())
		src = sw.src
		return struct{}{}, leechFromAria2(t, at, aria2, srv.AnnounceURL(), torrentPath, sw, dst)
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, filepath.Join(src, "payload"), filepath.Join(dst, "payload"))
}

func TestAria2SeedsThroughOpentracker(t *testing.T) {
	aria2 := needTool(t, "aria2c", "aria2")
	ot := needTool(t, "opentracker", "opentracker")
	port := freeTCPPort(t) // opentracker also takes UDP here; the HTTP side is what counts
	url := fmt.Sprintf("http://127.0.0.1:%d/announce", port)
	sw, torrentPath := interopSwarm(t, url)
	startOpentracker(t, ot, port, sw.meta.InfoHash)
	dst := t.TempDir()
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		return struct{}{}, leechFromAria2(t, at, aria2, url, torrentPath, sw, dst)
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, filepath.Join(sw.src, "payload"), filepath.Join(dst, "payload"))
}

func TestAria2LeechesFromUs(t *testing.T) {
	aria2 := needTool(t, "aria2c", "aria2")
	dst := t.TempDir()
	var src string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		srv, err := tracker.Serve(at, tracker.ServerConfig{HTTPAddr: loopback, Interval: time.Second})
		if err != nil {
			return struct{}{}, err
		}
		defer srv.Close()
		sw, torrentPath := interopSwarm(t, srv.AnnounceURL())
		src = sw.src
		seeder, _, err := sw.node(at, "seeder", sw.src, true, nil)
		if err != nil {
			return struct{}{}, err
		}
		if err := waitSeeders(at, srv.AnnounceURL(), sw.meta.InfoHash, 1); err != nil {
			return struct{}{}, err
		}
		// --seed-time=0: aria2c exits (status 0) once it has every piece.
		c := startChild(t, interopTimeout, "", aria2, aria2Args(t, dst, "--seed-time=0", torrentPath)...)
		if err := c.wait(at); err != nil {
			return struct{}{}, fmt.Errorf("aria2c: %w (our seeder: %+v)", err, seeder.Progress())
		}
		if p := seeder.Progress(); p.Uploaded < p.Total {
			return struct{}{}, fmt.Errorf("seeder progress %+v: uploaded less than the torrent", p)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, filepath.Join(src, "payload"), filepath.Join(dst, "payload"))
}

// startOpentracker runs opentracker on 127.0.0.1:port (TCP and UDP) with
// ih whitelisted. A trimmed copy of startOpentracker in
// tracker/opentracker_test.go (package tracker, so not reachable here):
// Debian builds it in whitelist mode, and it drops to "nobody" before
// reading the whitelist, hence the world-readable directory.
func startOpentracker(t *testing.T, bin string, port int, ih [20]byte) {
	t.Helper()
	dir, err := os.MkdirTemp("", "opentracker")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	wl, conf := filepath.Join(dir, "whitelist.txt"), filepath.Join(dir, "ot.conf")
	if err := os.WriteFile(wl, []byte(hex.EncodeToString(ih[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("access.whitelist "+wl+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := fmt.Sprint(port)
	// It chroots to its working directory; the paths above are absolute.
	startChild(t, interopTimeout+30*time.Second, "/", bin, "-f", conf, "-i", "127.0.0.1", "-p", p, "-P", p)
	// It listens first and loads the whitelist afterwards, on its own
	// thread: ready is a real announce that is not refused, taken back
	// with "stopped".
	probe := fmt.Sprintf("http://127.0.0.1:%d/announce?info_hash=%s&peer_id=%s&port=1&event=",
		port, percentEscape(ih[:]), strings.Repeat("p", 20))
	hc := &http.Client{Timeout: time.Second}
	for i := 0; ; i++ {
		body, err := httpBody(hc, probe+"started")
		if err == nil && !strings.Contains(body, "failure reason") {
			if _, err := httpBody(hc, probe+"stopped"); err != nil {
				t.Fatal(err)
			}
			return
		}
		if i == 100 {
			t.Fatalf("opentracker on port %d not ready: %v %q", port, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpBody(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return string(b), err
}

func percentEscape(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, "%%%02X", c)
	}
	return sb.String()
}
