package torrent

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/tracker"
)

var loopback = netip.MustParseAddrPort("127.0.0.1:0")

// writePayload makes a multi-file payload with deterministic contents and
// sizes chosen so that pieces straddle files and the last piece is short.
func writePayload(t testing.TB, dir string, sizes map[string]int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for name, size := range sizes {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.UintN(256))
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sameTree(t *testing.T, want, got string) {
	t.Helper()
	n := 0
	err := filepath.Walk(want, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if !bytes.Equal(a, b) {
			return fmt.Errorf("%s differs (%d vs %d bytes)", rel, len(a), len(b))
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no files compared")
	}
}

type swarm struct {
	t       testing.TB
	tracker *tracker.Server
	meta    *metainfo.Torrent
	src     string
}

// newSwarm starts our tracker and makes a torrent of a fresh payload.
func newSwarm(t testing.TB, at *aio.Task, sizes map[string]int, pieceLen int64) (*swarm, error) {
	return newSwarmWith(t, at, sizes, pieceLen, tracker.ServerConfig{})
}

// newSwarmWith is newSwarm with the tracker's configuration given (its
// address and interval are filled in).
func newSwarmWith(t testing.TB, at *aio.Task, sizes map[string]int, pieceLen int64, cfg tracker.ServerConfig) (*swarm, error) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	writePayload(t, filepath.Join(src, "payload"), sizes)
	cfg.HTTPAddr, cfg.Interval = loopback, time.Second
	srv, err := tracker.Serve(at, cfg)
	if err != nil {
		return nil, err
	}
	meta, _, err := metainfo.CreateSync(metainfo.CreateOptions{
		Path: filepath.Join(src, "payload"), PieceLength: pieceLen,
		Announce: [][]string{{srv.AnnounceURL()}},
	})
	if err != nil {
		return nil, err
	}
	return &swarm{t: t, tracker: srv, meta: meta, src: src}, nil
}

// node starts a client with one session for the swarm's torrent and runs
// both as tasks; it returns the session and its handle.
func (sw *swarm) node(at *aio.Task, name, dir string, seed bool, tweak func(*Session)) (*Session, *aio.Handle[struct{}], error) {
	c, err := NewClient(at, ClientConfig{ListenAddr: loopback, Logf: func(f string, a ...any) {
		sw.t.Logf(name+": "+f, a...)
	}})
	if err != nil {
		return nil, nil, err
	}
	s, err := c.Add(sw.meta, SessionOptions{Dir: dir, Seed: seed, AnnounceMinInterval: 200 * time.Millisecond})
	if err != nil {
		return nil, nil, err
	}
	if tweak != nil {
		tweak(s)
	}
	aio.Spawn(at, name+" listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
	h := aio.Spawn(at, name, func(t *aio.Task) (struct{}, error) {
		defer c.Close()
		return struct{}{}, s.Run(t)
	})
	return s, h, nil
}

var payloadSizes = map[string]int{
	"a.bin":       300_000,
	"sub/b.bin":   1<<20 + 777,
	"sub/c.txt":   5,
	"zz/last.bin": 70_001,
}

func TestSwarmDownloadFromSeeders(t *testing.T) {
	dst := t.TempDir()
	var leech *Session
	var src string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src = sw.src
		for i := range 3 {
			if _, _, err := sw.node(at, fmt.Sprintf("seeder%d", i), sw.src, true, nil); err != nil {
				return struct{}{}, err
			}
		}
		s, h, err := sw.node(at, "leecher", dst, false, nil)
		if err != nil {
			return struct{}{}, err
		}
		leech = s
		_, err = aio.AwaitTimeout(at, h, 60*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	if p := leech.Progress(); !p.Complete || p.Verified != p.Total {
		t.Fatalf("progress %+v, want complete", p)
	}
}

func TestSwarmBansCorruptSeeder(t *testing.T) {
	dst := t.TempDir()
	var leech *Session
	var logged []string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		if _, _, err := sw.node(at, "honest", sw.src, true, nil); err != nil {
			return struct{}{}, err
		}
		if _, _, err := sw.node(at, "liar", sw.src, true, func(s *Session) { s.corruptUploads = true }); err != nil {
			return struct{}{}, err
		}
		// The log (the CLI's -v) says which pieces failed and whom
		// that banned.
		s, h, err := sw.node(at, "leecher", dst, false, func(s *Session) {
			s.client.cfg.Logf = func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
		})
		if err != nil {
			return struct{}{}, err
		}
		leech = s
		_, err = aio.AwaitTimeout(at, h, 60*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	failed := regexp.MustCompile(`^` + regexp.QuoteMeta(leech.meta.Name) + `: piece \d+ failed its hash check \(\d+ senders?\); downloading it again$`)
	if !slices.ContainsFunc(logged, failed.MatchString) || !slices.ContainsFunc(logged, func(l string) bool { return strings.HasPrefix(l, "banned peer ") }) {
		t.Errorf("the log has no line matching %v, or none of a ban:\n%s", failed, strings.Join(logged, "\n"))
	}
	p := leech.Progress()
	if !p.Complete {
		t.Fatalf("progress %+v, want complete", p)
	}
	if p.Banned != 1 {
		t.Fatalf("banned %d peers, want exactly the liar (1); checks failed: %d", p.Banned, p.ChecksFailed)
	}
	if p.ChecksFailed == 0 {
		t.Fatal("no piece failed its check: the liar was never used, the test proves nothing")
	}
}

// nodeWith is node with the client's and the session's configuration
// given: the listen address and Logf are filled in, as are Dir and Seed.
func (sw *swarm) nodeWith(at *aio.Task, name, dir string, seed bool, cc ClientConfig, opts SessionOptions) (*Session, *aio.Handle[struct{}], error) {
	cc.ListenAddr = loopback
	cc.Logf = func(f string, a ...any) { sw.t.Logf(name+": "+f, a...) }
	c, err := NewClient(at, cc)
	if err != nil {
		return nil, nil, err
	}
	opts.Dir, opts.Seed = dir, seed
	if opts.AnnounceMinInterval == 0 {
		opts.AnnounceMinInterval = 200 * time.Millisecond
	}
	s, err := c.Add(sw.meta, opts)
	if err != nil {
		return nil, nil, err
	}
	aio.Spawn(at, name+" listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
	h := aio.Spawn(at, name, func(t *aio.Task) (struct{}, error) {
		defer c.Close()
		return struct{}{}, s.Run(t)
	})
	return s, h, nil
}
