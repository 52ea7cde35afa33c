package torrent

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
)

// Interop with libtorrent (Debian package "python3-libtorrent"), the
// reference implementation, driven by testdata/libtorrent/peer.py as a
// child process on loopback: libtorrent leeches from our seeding Session
// and seeds to our leeching Session. The script's line protocol (READY,
// PROGRESS, PEER, DONE, ERROR) is read as it comes, and every wait on it
// is bounded. INTEROP.md has the settings.

// ltPython is the only interpreter that can import Debian's libtorrent.
const ltPython = "/usr/bin/python3"

var ltCheck struct {
	once sync.Once
	err  error
}

// needLibtorrent skips the test when libtorrent cannot be imported, or
// fails it under CI, where .ci/run installs it.
func needLibtorrent(t testing.TB) {
	t.Helper()
	ltCheck.once.Do(func() {
		out, err := exec.Command(ltPython, "-c", "import libtorrent").CombinedOutput()
		if err != nil {
			ltCheck.err = fmt.Errorf("%s -c 'import libtorrent': %v: %s", ltPython, err, strings.TrimSpace(string(out)))
		}
	})
	if ltCheck.err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("libtorrent not importable (apt-get install -y python3-libtorrent); required when CI=true: %v", ltCheck.err)
	}
	t.Skipf("libtorrent not importable: apt-get install -y python3-libtorrent to run these tests (%v)", ltCheck.err)
}

// ltPeer is one running peer.py.
type ltPeer struct {
	*child
	name  string
	lines *lineWriter    // stdout
	errs  *lineWriter    // stderr: --alerts
	stdin io.WriteCloser // open while the test runs: peer.py exits when it closes
	port  int            // from READY
}

// ltSettings keeps libtorrent from spending seconds on fallbacks our
// client does not need on loopback: it dials uTP first and encrypted
// first, and each falls back to plain TCP after about a second. Tests
// that are about libtorrent's defaults leave them out.
var ltSettings = []string{"--set", "enable_outgoing_utp=false", "--set", "out_enc_policy=2"}

// startLibtorrent runs peer.py for the .torrent at torrentPath with its
// data in dir; args are peer.py's other flags (--magnet among them when
// torrentPath is ""). It returns at once: ready waits for the listen
// port.
func startLibtorrent(t testing.TB, name, torrentPath, dir string, timeout time.Duration, args ...string) *ltPeer {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "testdata", "libtorrent", "peer.py"))
	if err != nil {
		t.Fatal(err)
	}
	lp := &ltPeer{name: name, lines: &lineWriter{}, errs: &lineWriter{}}
	argv := []string{script, "--save", dir, "--timeout", fmt.Sprint(timeout.Seconds())}
	if torrentPath != "" {
		argv = append(argv, "--torrent", torrentPath)
	}
	argv = append(argv, args...)
	lp.child = startChildWith(t, timeout+10*time.Second, "", func(cmd *exec.Cmd) {
		// One writer for both streams, behind a lock: exec copies each
		// from its own goroutine. Each is also split into lines.
		out := &lockedWriter{w: cmd.Stdout}
		cmd.Stdout, cmd.Stderr = io.MultiWriter(out, lp.lines), io.MultiWriter(out, lp.errs)
		if lp.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}, ltPython, argv...)
	lp.child.name = name
	return lp
}

// ready waits for READY and returns the address libtorrent listens on.
func (lp *ltPeer) ready(at *aio.Task) (netip.AddrPort, error) {
	line, err := lp.await(at, "READY", 30*time.Second)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.Atoi(strings.TrimPrefix(line, "READY "))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%s: %q: %w", lp.name, line, err)
	}
	lp.port = port
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(port)), nil
}

// done waits for DONE: libtorrent has every piece, each checked.
func (lp *ltPeer) done(at *aio.Task, timeout time.Duration) error {
	_, err := lp.await(at, "DONE", timeout)
	return err
}

// ltStall is how long libtorrent's progress may stand still before a
// wait gives up on it: a stalled transfer fails in seconds, not at the
// test's timeout. Its first connection to us can take about 3 s (uTP and
// encryption fallbacks).
const ltStall = 15 * time.Second

// await polls for the first line starting with word, failing on an
// ERROR line, on the child's exit, after timeout, or when the progress
// it reports has not moved for ltStall. It polls rather than blocks an
// executor thread: our own sessions need those for the disk while
// libtorrent runs.
func (lp *ltPeer) await(at *aio.Task, word string, timeout time.Duration) (string, error) {
	now := at.Loop().Now()
	deadline, moved, progress := now.Add(timeout), now, ""
	for next := 0; ; {
		lines := lp.lines.since(next)
		next += len(lines)
		for _, l := range lines {
			if l == word || strings.HasPrefix(l, word+" ") {
				return l, nil
			}
			if strings.HasPrefix(l, "ERROR") {
				return "", fmt.Errorf("%s: %s", lp.name, l)
			}
			if ppm, ok := strings.CutPrefix(l, "PROGRESS "); ok {
				ppm, _, _ = strings.Cut(ppm, " ")
				if ppm != progress {
					progress, moved = ppm, at.Loop().Now()
				}
			}
		}
		if progress != "" && at.Loop().Now().Sub(moved) > ltStall {
			return "", fmt.Errorf("%s: stalled at %s ppm for %v, waiting for %s", lp.name, progress, ltStall, word)
		}
		select {
		case <-lp.child.done:
			if len(lp.lines.since(next)) == 0 {
				return "", fmt.Errorf("%s exited (%v) before %s; last: %q", lp.name, lp.child.err, word, lp.lines.last())
			}
			continue
		default:
		}
		if at.Loop().Now().After(deadline) {
			return "", fmt.Errorf("%s: no %s after %v; last: %q", lp.name, word, timeout, lp.lines.last())
		}
		if err := aio.Sleep(at, 20*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// chokedUs counts the times a libtorrent peer run with --alerts choked a
// peer other than libtorrent (that is, us) and unchoked it again: chokes
// in the middle of our download, not the one that may follow its end.
func (lp *ltPeer) chokedUs() int {
	n, choked := 0, false
	for _, l := range lp.errs.since(0) {
		if strings.Contains(l, "client: libtorrent") {
			continue
		}
		switch {
		case strings.Contains(l, "==> CHOKE"):
			choked = true
		case strings.Contains(l, "==> UNCHOKE") && choked:
			choked = false
			n++
		}
	}
	return n
}

// lineWriter collects whole lines written to it.
type lineWriter struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := strings.IndexByte(string(w.partial), '\n')
		if i < 0 {
			return len(b), nil
		}
		w.lines = append(w.lines, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
}

// since returns the lines after the first n.
func (w *lineWriter) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lines[min(n, len(w.lines)):]...)
}

func (w *lineWriter) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.lines) == 0 {
		return ""
	}
	return w.lines[len(w.lines)-1]
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// bigSwarm writes one file of size pseudo-random bytes and a trackerless
// .torrent of it in 256 KiB pieces: peers are given to each side by
// address. It returns the swarm and the .torrent's path.
func bigSwarm(t testing.TB, size int) (*swarm, string) {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(root, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{1}), int64(size)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	meta, raw, err := metainfo.CreateSync(metainfo.CreateOptions{Path: filepath.Join(src, "big.bin"), PieceLength: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "big.torrent")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return &swarm{t: t, meta: meta, src: src}, path
}

// sameFile fails the test unless the two files hold the same bytes.
func sameFile(t testing.TB, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%s: %d bytes, want %d", got, len(b), len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s differs from %s first at byte %d", got, want, i)
		}
	}
}

// ourSeeder starts our client seeding sw's data and waits until its
// check is over, so that libtorrent's first dial is not hung up on.
func ourSeeder(at *aio.Task, sw *swarm) (*Session, netip.AddrPort, error) {
	s, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{}, SessionOptions{NoTrackers: true})
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	for i := 0; !s.Progress().Complete; i++ {
		if i == 1000 {
			return nil, netip.AddrPort{}, fmt.Errorf("seeder: data not checked after 20 s: %+v", s.Progress())
		}
		if err := aio.Sleep(at, 20*time.Millisecond); err != nil {
			return nil, netip.AddrPort{}, err
		}
	}
	return s, s.client.Addr(), nil
}

// ltLeechSize is the payload libtorrent leeches from us: 64 MiB, enough
// for its request queue to ramp past 512 (it did at about 15 MiB), small
// enough for a few seconds on loopback.
const ltLeechSize = 64 << 20

// leechIntoLibtorrent has a libtorrent leecher, started with args,
// download sw's torrent from our seeding Session into a fresh directory,
// which it returns.
func leechIntoLibtorrent(t *testing.T, size int, args ...string) (*swarm, string) {
	needLibtorrent(t)
	sw, torrentPath := bigSwarm(t, size)
	dst := t.TempDir()
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		seeder, addr, err := ourSeeder(at, sw)
		if err != nil {
			return struct{}{}, err
		}
		lt := startLibtorrent(t, "libtorrent leecher", torrentPath, dst, interopTimeout,
			append(args, "--connect", addr.String())...)
		if _, err := lt.ready(at); err != nil {
			return struct{}{}, err
		}
		if err := lt.done(at, interopTimeout); err != nil {
			return struct{}{}, fmt.Errorf("%w (our seeder: %+v)", err, seeder.Progress())
		}
		if p := seeder.Progress(); p.Uploaded < p.Total {
			return struct{}{}, fmt.Errorf("seeder progress %+v: uploaded less than the torrent", p)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
	return sw, dst
}

// TestLibtorrentQueue1500LeecherNotDisconnected: libtorrent's high
// performance preset (max_out_request_queue 1500) ramped its requests to
// us past the 512 we hold, and we cut it off at about a quarter of the
// download ("more than 512 requests outstanding"), after which it stalled.
// Now our extension handshake says reqq 512, which libtorrent takes as
// its limit, and excess requests would be dropped, not the peer.
func TestLibtorrentQueue1500LeecherNotDisconnected(t *testing.T) {
	leechIntoLibtorrent(t, ltLeechSize, append(ltSettings, "--set", "max_out_request_queue=1500")...)
}

// TestLibtorrentDefaultsLeechFromUs: a libtorrent leecher left at its
// defaults, its request queue (500) and its dialling (uTP first, then
// encrypted TCP, then plaintext, which is what we answer) included.
func TestLibtorrentDefaultsLeechFromUs(t *testing.T) {
	leechIntoLibtorrent(t, ltLeechSize)
}

// TestLibtorrentSeedsToUs: the baseline, our client downloads from a
// libtorrent seeder.
func TestLibtorrentSeedsToUs(t *testing.T) {
	needLibtorrent(t)
	sw, torrentPath := bigSwarm(t, 16<<20)
	dst := t.TempDir()
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout, "--seed")
		addr, err := seeder.ready(at)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, leechFromLibtorrent(at, sw, dst, addr)
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
}

// leechFromLibtorrent downloads sw's torrent into dst with our client,
// from the libtorrent peer at addr.
func leechFromLibtorrent(at *aio.Task, sw *swarm, dst string, addr netip.AddrPort) error {
	leech, h, err := sw.nodeWith(at, "leecher", dst, false, ClientConfig{},
		SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{addr}})
	if err != nil {
		return err
	}
	if _, err := aio.AwaitTimeout(at, h, interopTimeout); err != nil {
		return fmt.Errorf("download from libtorrent: %w (progress %+v)", err, leech.Progress())
	}
	if p := leech.Progress(); !p.Complete || p.Downloaded < p.Total {
		return fmt.Errorf("progress %+v: want complete, every byte downloaded", p)
	}
	return nil
}

// TestLibtorrentSeedsToUsAmongRotatingChokes: a libtorrent seeder with
// one unchoke slot (and an optimistic one), rotated every second, serves
// two libtorrent leechers and us. Our requests are voided by every choke
// and must be made again on the next unchoke, from the seeder or from
// the other leechers; the download must neither stall nor corrupt.
func TestLibtorrentSeedsToUsAmongRotatingChokes(t *testing.T) {
	needLibtorrent(t)
	// 12 MiB: at 6 MiB, on a loaded machine, the two leechers passed on
	// enough of it that the seeder's slot never had to leave us.
	sw, torrentPath := bigSwarm(t, 12<<20)
	dst := t.TempDir()
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout,
			append(ltSettings, "--seed", "--choke-slots", "1", "--alerts",
				// Slow enough that our download needs at least four
				// one-second rounds of unchoking (libtorrent keeps a
				// peer unchoked across two when the optimistic slot
				// follows the regular one); round robin moves the
				// regular slot on after 2 pieces.
				"--upload-rate", fmt.Sprint(3<<19), "--set", "seeding_piece_quota=2",
				"--set", "unchoke_interval=1", "--set", "optimistic_unchoke_interval=1")...)
		addr, err := seeder.ready(at)
		if err != nil {
			return struct{}{}, err
		}
		// Competitors for the slot, killed when the test ends.
		for i := range 2 {
			lt := startLibtorrent(t, fmt.Sprintf("libtorrent leecher %d", i), torrentPath, t.TempDir(), interopTimeout,
				append(ltSettings, "--connect", addr.String())...)
			if _, err := lt.ready(at); err != nil {
				return struct{}{}, err
			}
		}
		if err := leechFromLibtorrent(at, sw, dst, addr); err != nil {
			return struct{}{}, err
		}
		if seeder.chokedUs() == 0 {
			return struct{}{}, fmt.Errorf("the seeder never choked us: the test did not test rotation")
		}
		t.Logf("our download went on through %d chokes", seeder.chokedUs())
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
}
