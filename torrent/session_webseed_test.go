package torrent

import (
	"crypto/sha1"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
)

// wsFile is a file of a hand-built torrent; pad marks a BEP 47 padding
// file, whose bytes are zeros and which is not written to the source.
type wsFile struct {
	path []string
	size int
	pad  bool
}

// webSeedFiles has a name with a space and UTF-8, a piece (1, with 16 KiB
// pieces) spanning three files, an empty file and a padding file.
var webSeedFiles = []wsFile{
	{path: []string{"a b.txt"}, size: 20_000},
	{path: []string{"ü", "small.bin"}, size: 3_000},
	{path: []string{"c.bin"}, size: 10_000},
	{path: []string{".pad", "16152"}, size: 16_152, pad: true},
	{path: []string{"empty"}, size: 0},
	{path: []string{"big naïve.bin"}, size: 100_001},
}

// buildWebSeedTorrent writes the files under root/name (a single file at
// root/name when multi is false) and returns their torrent, hand-built
// because metainfo.Create makes no padding files.
func buildWebSeedTorrent(t testing.TB, root, name string, multi bool, files []wsFile, pieceLen int, urls []string) *metainfo.Torrent {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var all []byte
	var list []map[string]any
	for _, f := range files {
		data := make([]byte, f.size)
		if !f.pad {
			for i := range data {
				data[i] = byte(rng.UintN(256))
			}
			p := filepath.Join(root, name)
			if multi {
				p = filepath.Join(append([]string{root, name}, f.path...)...)
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, data...)
		entry := map[string]any{"length": f.size, "path": f.path}
		if f.pad {
			entry["attr"] = "p"
		}
		list = append(list, entry)
	}
	var pieces []byte
	for off := 0; off < len(all); off += pieceLen {
		sum := sha1.Sum(all[off:min(len(all), off+pieceLen)])
		pieces = append(pieces, sum[:]...)
	}
	info := map[string]any{"name": name, "piece length": pieceLen, "pieces": pieces}
	if multi {
		info["files"] = list
	} else {
		info["length"] = len(all)
	}
	raw, err := bencode.Marshal(map[string]any{"info": info, "url-list": urls})
	if err != nil {
		t.Fatal(err)
	}
	m, err := metainfo.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// webSeedOnly downloads m into a fresh directory from its web seeds alone
// (no trackers, no peers) and returns the directory and the session.
func webSeedOnly(t *testing.T, m *metainfo.Torrent, opts SessionOptions) (string, *Session) {
	t.Helper()
	dst := t.TempDir()
	var s *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw := &swarm{t: t, meta: m}
		opts.NoTrackers = true
		var h *aio.Handle[struct{}]
		var err error
		s, h, err = sw.nodeWith(at, "leecher", dst, false, ClientConfig{}, opts)
		if err != nil {
			return struct{}{}, err
		}
		_, err = aio.AwaitTimeout(at, h, 60*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Progress(); !p.Complete || p.Verified != p.Total {
		t.Fatalf("progress %+v, want complete", p)
	}
	return dst, s
}

func TestWebSeedOnlyMultiFile(t *testing.T) {
	src := t.TempDir()
	var asked sync.Map // path → true, written by the server's goroutines
	files := http.FileServer(http.Dir(src))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.URL.Path, true)
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	m := buildWebSeedTorrent(t, src, "web seed ü", true, webSeedFiles, 16<<10, []string{srv.URL + "/"})
	dst, s := webSeedOnly(t, m, SessionOptions{})
	sameTree(t, src, dst)
	if _, err := os.Stat(filepath.Join(dst, "web seed ü", ".pad")); err == nil {
		t.Error("the padding file was written")
	}
	if s.ws.bytes != m.Length {
		t.Errorf("web seeds delivered %d bytes, want all %d", s.ws.bytes, m.Length)
	}
	if p := s.Progress(); p.WebSeeds != 1 {
		t.Errorf("progress shows %d web seeds, want 1", p.WebSeeds)
	}
	for _, p := range []string{"/web seed ü/a b.txt", "/web seed ü/ü/small.bin", "/web seed ü/big naïve.bin"} {
		if _, ok := asked.Load(p); !ok {
			t.Errorf("%q was never asked for", p)
		}
	}
	asked.Range(func(k, _ any) bool {
		if strings.Contains(k.(string), ".pad") || strings.HasSuffix(k.(string), "/empty") {
			t.Errorf("asked for %q: padding and empty files are never fetched", k)
		}
		return true
	})
}

// A URL given with SessionOptions.WebSeeds is used when the torrent has
// none; NoWebSeeds leaves out the torrent's own.
func TestWebSeedFromOptions(t *testing.T) {
	src := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(src)))
	defer srv.Close()
	m := buildWebSeedTorrent(t, src, "one file.bin", false, []wsFile{{path: []string{"x"}, size: 50_000}}, 16<<10,
		[]string{"http://127.0.0.1:1/nothing-here"})
	dst, _ := webSeedOnly(t, m, SessionOptions{NoWebSeeds: true, WebSeeds: []string{srv.URL + "/one%20file.bin"}})
	sameTree(t, src, dst)
}

// webSeedSwarm is a torrent made by newSwarm, served over HTTP by handler
// (which wraps a file server of the source) and by one seeder of ours;
// the leecher knows both. It returns the leecher once complete.
func webSeedSwarm(t *testing.T, cc ClientConfig, wrap func(http.Handler) http.Handler, tweak func(*Session)) *Session {
	t.Helper()
	return webSeedSwarmOf(t, payloadSizes, cc, wrap, tweak)
}

// webSeedSwarmOf is webSeedSwarm with files of the given sizes.
func webSeedSwarmOf(t *testing.T, sizes map[string]int, cc ClientConfig, wrap func(http.Handler) http.Handler, tweak func(*Session)) *Session {
	t.Helper()
	dst := t.TempDir()
	var leech *Session
	var src string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, sizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src = sw.src
		srv := httptest.NewServer(wrap(http.FileServer(http.Dir(sw.src))))
		defer srv.Close()
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		// A seeder still checking its data has nothing for the leecher,
		// which would rightly leave everything to the web seed.
		for n := 0; !seeder.Progress().Complete; n++ {
			if n == 6000 {
				return struct{}{}, errors.New("the seeder never checked its data")
			}
			if err := aio.Sleep(at, 10*time.Millisecond); err != nil {
				return struct{}{}, err
			}
		}
		s, h, err := sw.nodeWith(at, "leecher", dst, false, cc, SessionOptions{
			NoTrackers: true, Peers: []netip.AddrPort{seeder.client.Addr()}, WebSeeds: []string{srv.URL + "/"},
		})
		if err != nil {
			return struct{}{}, err
		}
		leech = s
		if tweak != nil {
			tweak(s) // before its Run starts: the task has not run yet
		}
		_, err = aio.AwaitTimeout(at, h, 60*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	if p := leech.Progress(); !p.Complete {
		t.Fatalf("progress %+v, want complete", p)
	}
	return leech
}

func TestWebSeedAndPeerBothContribute(t *testing.T) {
	slow := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(5 * time.Millisecond)
			h.ServeHTTP(w, r)
		})
	}
	// The download limit (which covers both) spreads the payload over a
	// second or so: neither source can take all of it before the other
	// has started, whichever connects first.
	s := webSeedSwarm(t, slowPeers, slow, nil)
	fromPeers := s.downloaded - s.ws.bytes
	if s.ws.bytes == 0 || fromPeers <= 0 {
		t.Fatalf("web seed delivered %d bytes, peers %d: want both > 0", s.ws.bytes, fromPeers)
	}
}

// eagerWebSeeds lets the web seeds start pieces whatever the peers do,
// for tests of what a bad server does to the web seed.
func eagerWebSeeds(s *Session) { s.ws.fastPeers, s.ws.grace = math.Inf(1), 0 }

// slowPeers limits the leecher to 1 MiB/s, so that the 1.4 MB payload
// takes over a second: time for a bad web seed to be found out before the
// peer has sent everything.
var slowPeers = ClientConfig{MaxDownloadRate: 1 << 20}

// flipFirstByte corrupts the first body byte of every response.
type flipFirstByte struct {
	http.ResponseWriter
	done bool
}

func (f *flipFirstByte) Write(b []byte) (int, error) {
	if !f.done && len(b) > 0 {
		f.done = true
		c := append([]byte{b[0] ^ 0xFF}, b[1:]...)
		return f.ResponseWriter.Write(c)
	}
	return f.ResponseWriter.Write(b)
}

func TestWebSeedCorruptIsStruckAndDropped(t *testing.T) {
	corrupt := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(&flipFirstByte{ResponseWriter: w}, r)
		})
	}
	s := webSeedSwarm(t, slowPeers, corrupt, eagerWebSeeds)
	seed := s.ws.seeds[0]
	if seed.strikes < webSeedMaxStrikes || !strings.Contains(seed.dropped, "failed their hash") {
		t.Fatalf("web seed: %d strikes, dropped %q; want dropped for its hash failures", seed.strikes, seed.dropped)
	}
	if p := s.Progress(); p.Banned != 0 || p.WebSeeds != 0 {
		t.Fatalf("progress %+v: want no peer banned for the web seed's data, and no web seed left", p)
	}
}

func TestWebSeed404IsDropped(t *testing.T) {
	notFound := func(http.Handler) http.Handler { return http.NotFoundHandler() }
	s := webSeedSwarm(t, slowPeers, notFound, func(s *Session) { eagerWebSeeds(s); s.ws.backoff = time.Millisecond })
	seed := s.ws.seeds[0]
	if !strings.Contains(seed.dropped, "404") {
		t.Fatalf("web seed dropped %q, want dropped after 404s", seed.dropped)
	}
	if s.ws.bytes != 0 {
		t.Fatalf("a 404ing web seed delivered %d bytes", s.ws.bytes)
	}
}

// A server that ignores Range is dropped at once when a piece needs part
// of a file.
func TestWebSeedWithoutRangesIsDropped(t *testing.T) {
	noRanges := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("Range")
			h.ServeHTTP(w, r)
		})
	}
	s := webSeedSwarm(t, slowPeers, noRanges, eagerWebSeeds)
	if seed := s.ws.seeds[0]; !strings.Contains(seed.dropped, "byte ranges") {
		t.Fatalf("web seed dropped %q, want dropped for lacking ranges", seed.dropped)
	}
}

// The download rate limit covers web seed bytes: the 133 KB read over
// HTTP (the padding is not) at 50 KiB/s, less the bucket's 64 KiB burst,
// cannot take under 1.3 s.
func TestWebSeedRateLimited(t *testing.T) {
	src := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(src)))
	defer srv.Close()
	m := buildWebSeedTorrent(t, src, "web seed ü", true, webSeedFiles, 16<<10, []string{srv.URL + "/"})
	dst := t.TempDir()
	var s *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw := &swarm{t: t, meta: m}
		var h *aio.Handle[struct{}]
		var err error
		s, h, err = sw.nodeWith(at, "leecher", dst, false, ClientConfig{MaxDownloadRate: 50 << 10}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		_, err = aio.AwaitTimeout(at, h, 60*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	onWire := m.Length - 16_152
	minTime := time.Duration(float64(onWire-64<<10) / (50 << 10) * float64(time.Second))
	if p := s.Progress(); p.Elapsed < minTime {
		t.Fatalf("fetched %d bytes in %v at a 50 KiB/s limit; it takes at least %v", onWire, p.Elapsed, minTime)
	}
}

// A fast peer leaves the web seed little: the web seed takes pieces
// only until the peer has something for us, then waits the grace out,
// and the peer is done before the grace ends. Without the rule the web
// seed, as fast as the peer over loopback, takes about half.
func TestWebSeedDefersToFastPeer(t *testing.T) {
	sizes := map[string]int{"a.bin": 3 << 20, "sub/b.bin": 5<<20 + 777}
	s := webSeedSwarmOf(t, sizes, ClientConfig{}, func(h http.Handler) http.Handler { return h }, nil)
	t.Logf("web seed %d of %d bytes", s.ws.bytes, s.wantedBytes)
	if max := s.wantedBytes / 4; s.ws.bytes > max {
		t.Fatalf("web seed delivered %d of %d bytes, want at most %d: peers first when they are fast", s.ws.bytes, s.wantedBytes, max)
	}
	if s.downloaded != s.wantedBytes {
		t.Fatalf("downloaded %d bytes, want %d", s.downloaded, s.wantedBytes)
	}
}
