package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/cmd/internal/payload"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/tracker"
)

var loopbackAny = netip.MustParseAddrPort("127.0.0.1:0")

// env is what every run shares: the binary, the payload and its torrent,
// and the tracker.
type env struct {
	bin, aria2  string
	src         string // holds payload/
	torrentPath string
	meta        *metainfo.Torrent
	announce    string
	stopTracker func()
	dropNote    string // why the page cache is not dropped ("" if it is)
}

// payloadFiles splits size into three files of odd sizes, two large and
// one small, so that pieces straddle file boundaries (the total is size,
// so a power-of-two size fills its last piece).
func payloadFiles(size int64) map[string]int64 {
	small := int64(12_345)
	a := (size-small)/2 + 777
	return map[string]int64{"a.bin": a, "b.bin": size - small - a, "c.bin": small}
}

func setup(o *options, work string) (*env, error) {
	e := &env{src: filepath.Join(work, "src"), torrentPath: filepath.Join(work, "bench.torrent")}
	var err error
	if e.aria2, err = exec.LookPath("aria2c"); err != nil && (o.seeder == "aria2" || containsAria2(o.leechers)) {
		return nil, fmt.Errorf("aria2c not found (apt-get install -y aria2): %w", err)
	}
	if e.bin = o.bin; e.bin == "" {
		if e.bin, err = buildBinary(work); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	for name, n := range payloadFiles(o.size) {
		if err := payload.WriteRandom(filepath.Join(e.src, "payload", name), n, rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)})); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(os.Stderr, "payload: %s in %v\n", human(float64(o.size)), time.Since(start).Round(time.Millisecond))
	if e.announce, e.stopTracker, err = startTracker(); err != nil {
		return nil, err
	}
	args := []string{"create", filepath.Join(e.src, "payload"), "-a", e.announce, "-o", e.torrentPath, "--force"}
	if o.pieceLen != "" {
		args = append(args, "--piece-length", o.pieceLen)
	}
	if out, err := exec.Command(e.bin, args...).CombinedOutput(); err != nil {
		e.close()
		return nil, fmt.Errorf("aiotorrent create: %w\n%s", err, out)
	}
	if e.meta, err = metainfo.Load(e.torrentPath); err != nil {
		e.close()
		return nil, err
	}
	if o.dropCaches {
		e.dropNote = dropCaches()
	} else {
		e.dropNote = "--drop-caches=false"
	}
	return e, nil
}

func containsAria2(list []string) bool {
	for _, l := range list {
		if l == "aria2" {
			return true
		}
	}
	return false
}

func (e *env) close() {
	if e.stopTracker != nil {
		e.stopTracker()
	}
}

// buildBinary builds cmd/aiotorrent into dir.
func buildBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "aiotorrent")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/aiotorrent/aiotorrent/cmd/aiotorrent")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// startTracker runs our tracker on loopback, on its own aio loop in a
// goroutine, and returns its announce URL and a function that stops it.
func startTracker() (string, func(), error) {
	type started struct {
		url  string
		loop *aio.Loop
		stop *aio.Event
		err  error
	}
	ready := make(chan started, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
			srv, err := tracker.Serve(t, tracker.ServerConfig{HTTPAddr: loopbackAny})
			if err != nil {
				return struct{}{}, err
			}
			defer srv.Close()
			stop := aio.NewEvent()
			ready <- started{url: srv.AnnounceURL(), loop: t.Loop(), stop: stop}
			return struct{}{}, stop.Wait(t)
		})
		if err != nil {
			select {
			case ready <- started{err: err}:
			default:
			}
		}
	}()
	s := <-ready
	if s.err != nil {
		return "", nil, fmt.Errorf("tracker: %w", s.err)
	}
	return s.url, func() {
		if s.loop.Post(s.stop.Set) == nil {
			<-done
		}
	}, nil
}

// scrape asks the tracker how many seeders and leechers it knows.
func (e *env) scrape() (tracker.ScrapeStats, error) {
	return aio.Run(func(t *aio.Task) (tracker.ScrapeStats, error) {
		st, err := tracker.Scrape(t, e.announce, [][20]byte{e.meta.InfoHash})
		return st[e.meta.InfoHash], err
	})
}

// waitSeeders waits until the tracker counts n seeders.
func (e *env) waitSeeders(n int, timeout time.Duration) error {
	var st tracker.ScrapeStats
	var err error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st, err = e.scrape(); err == nil && st.Complete >= n {
			return nil
		}
	}
	return fmt.Errorf("the tracker still counts %+v (error %v) after %v, want %d seeders", st, err, timeout, n)
}

// dropCaches empties the page cache so that every run reads the payload
// from disk; it returns why it could not ("" when it did).
func dropCaches() string {
	if runtime.GOOS != "linux" {
		return "page cache not dropped (not Linux)"
	}
	if err := exec.Command("sync").Run(); err != nil {
		return "page cache not dropped (sync: " + err.Error() + ")"
	}
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200); err != nil {
		return "page cache not dropped (" + err.Error() + ")"
	}
	return ""
}

// parseSize reads "1GiB", "256MiB", "500MB" or a number of bytes.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	t, mult := strings.TrimSpace(s), 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return 0, errors.New("bad size " + strconv.Quote(s) + " (examples: 256MiB, 1GiB)")
	}
	return int64(v * mult), nil
}

// human formats bytes in binary units.
func human(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
