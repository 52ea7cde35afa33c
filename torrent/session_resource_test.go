package torrent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// manyTorrents writes n one-file, one-piece torrents of distinct data into
// dir and returns their metainfo and data.
func manyTorrents(t testing.TB, dir string, n int) ([]*metainfo.Torrent, [][]byte) {
	t.Helper()
	metas, datas := make([]*metainfo.Torrent, n), make([][]byte, n)
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		data := make([]byte, 1000+i%100)
		for k := range data {
			data[k] = byte(rng.UintN(256))
		}
		p := filepath.Join(dir, fmt.Sprintf("t%04d.bin", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, _, err := metainfo.CreateSync(metainfo.CreateOptions{Path: p, PieceLength: 16 << 10, NoCreationDate: true})
		if err != nil {
			t.Fatal(err)
		}
		metas[i], datas[i] = m, data
	}
	return metas, datas
}

// seedAll adds every torrent to c as a seeder of the data in dir, runs
// them, and waits until each has checked its data; errs[i] is set if
// session i ends.
func seedAll(at *aio.Task, c *Client, dir string, metas []*metainfo.Torrent) ([]*Session, []error, error) {
	ss, errs := make([]*Session, len(metas)), make([]error, len(metas))
	for i, m := range metas {
		s, err := c.Add(m, SessionOptions{Dir: dir, Seed: true, NoTrackers: true})
		if err != nil {
			return nil, nil, err
		}
		ss[i] = s
		aio.Spawn(at, m.Name, func(t *aio.Task) (struct{}, error) {
			errs[i] = fmt.Errorf("%s ended: %w", m.Name, s.Run(t))
			return struct{}{}, nil
		})
	}
	for i := 0; i < len(ss); {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		if ss[i].Progress().Complete {
			i++
			continue
		}
		if err := aio.Sleep(at, 20*time.Millisecond); err != nil {
			return nil, nil, err
		}
	}
	return ss, errs, nil
}

// askBlock connects to addr as a Fast peer of m and asks for the first
// block of piece 0 (every piece of a small torrent is in the allowed fast
// set, so it is served though we are choked). It returns the block, or
// errRejected.
func askBlock(at *aio.Task, addr netip.AddrPort, m *metainfo.Torrent) ([]byte, error) {
	n := m.NumPieces()
	c, _, err := peer.Dial(at, addr, fastHandshake(m), peer.Limits{NumPieces: n, MaxBlock: piece.BlockSize}, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	length := uint32(min(m.Length, piece.BlockSize))
	c.Queue(peer.AppendRequest(nil, 0, 0, length))
	if err := c.Flush(at); err != nil {
		return nil, err
	}
	for {
		msg, err := c.ReadMessage(at)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		switch msg.ID {
		case peer.Piece:
			return bytes.Clone(msg.Payload), nil
		case peer.Reject:
			return nil, errRejected
		}
	}
}

var errRejected = errors.New("request rejected")

// fdsOpen counts this process's open descriptors.
func fdsOpen(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestThousandTorrentsShareTheFileBound: 1,000 seeding torrents in one
// client hold at most the client's MaxOpenFiles data files open (each
// Storage had its own cache, and the process held 1,000), and so they do
// while peers read from twenty of them at once.
func TestThousandTorrentsShareTheFileBound(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	const n, bound, readers = 1000, 32, 20
	dir := t.TempDir()
	metas, datas := manyTorrents(t, dir, n)
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback, NoUTP: true, MaxOpenFiles: bound})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		aio.Spawn(at, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		base := fdsOpen(t)
		start := time.Now()
		if _, _, err := seedAll(at, c, dir, metas); err != nil {
			return struct{}{}, err
		}
		t.Logf("%d torrents checked in %v", n, time.Since(start))
		if got := fdsOpen(t) - base; got > bound {
			t.Errorf("%d torrents checked: %d more descriptors, want <= %d", n, got, bound)
		}
		// Twenty peers at once, each asking a different torrent; each
		// holds its connection until all have their block, so the count
		// below sees them all.
		g := aio.NewGroup(at)
		answered, done := 0, aio.NewEvent()
		for k := range readers {
			i := k * (n / readers)
			g.Go(fmt.Sprint("reader ", k), func(rt *aio.Task) error {
				return askBlockHeld(rt, c.Addr(), metas[i], done, func(got []byte) error {
					if !bytes.Equal(got, datas[i]) {
						return fmt.Errorf("torrent %d: got %d bytes, not its data", i, len(got))
					}
					if answered++; answered == readers {
						if files := c.files.Open(); files > bound {
							t.Errorf("%d data files open while serving, want <= %d", files, bound)
						}
						// Our side and theirs of each connection.
						if got := fdsOpen(t) - base; got > bound+2*readers {
							t.Errorf("serving %d peers: %d more descriptors, want <= %d", readers, got, bound+2*readers)
						}
						done.Set()
					}
					return nil
				})
			})
		}
		return struct{}{}, g.Wait(at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// askBlockHeld is askBlock that passes the block to got, then keeps the
// connection until done is set.
func askBlockHeld(at *aio.Task, addr netip.AddrPort, m *metainfo.Torrent, done *aio.Event, got func([]byte) error) error {
	c, _, err := peer.Dial(at, addr, fastHandshake(m), peer.Limits{NumPieces: m.NumPieces(), MaxBlock: piece.BlockSize}, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Queue(peer.AppendRequest(nil, 0, 0, uint32(min(m.Length, piece.BlockSize))))
	if err := c.Flush(at); err != nil {
		return err
	}
	for {
		msg, err := c.ReadMessage(at)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if msg.ID == peer.Piece {
			if err := got(msg.Payload); err != nil {
				return err
			}
			return done.Wait(at)
		}
	}
}

// TestMissingFileIsThatTorrentsError: a seeding torrent whose file is
// removed refuses the requests it cannot read and shows why (Progress.Err)
// while it keeps running, another torrent of the same client keeps
// serving, and once the file is back the first serves again and its
// error clears.
func TestMissingFileIsThatTorrentsError(t *testing.T) {
	dir := t.TempDir()
	metas, datas := manyTorrents(t, dir, 2)
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		// One file open at most: reading b's closes a's, so a's next
		// read opens it again and finds it gone.
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback, NoUTP: true, MaxOpenFiles: 1})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		aio.Spawn(at, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		ss, errs, err := seedAll(at, c, dir, metas)
		if err != nil {
			return struct{}{}, err
		}
		a, b := ss[0], ss[1]
		a.res.first = 10 * time.Millisecond
		var shown error
		a.SetOnProgress(func(p Progress) {
			if p.Err != nil {
				shown = p.Err
			}
		})
		pathA := filepath.Join(dir, metas[0].Name)
		if err := os.Remove(pathA); err != nil {
			return struct{}{}, err
		}
		serves := func(i int) error {
			got, err := askBlock(at, c.Addr(), metas[i])
			if err != nil {
				return err
			}
			if !bytes.Equal(got, datas[i]) {
				return fmt.Errorf("torrent %d served %d bytes, not its data", i, len(got))
			}
			return nil
		}
		if err := serves(1); err != nil {
			return struct{}{}, fmt.Errorf("b before: %w", err)
		}
		if _, err := askBlock(at, c.Addr(), metas[0]); !errors.Is(err, errRejected) {
			return struct{}{}, fmt.Errorf("a without its file answered %v, want a reject", err)
		}
		if err := a.Progress().Err; !errors.Is(err, piece.ErrMissing) || !errors.Is(shown, piece.ErrMissing) {
			return struct{}{}, fmt.Errorf("a's error is %v (shown %v), want its missing file", err, shown)
		}
		if err := serves(1); err != nil {
			return struct{}{}, fmt.Errorf("b after a's failure: %w", err)
		}
		if b.Progress().Err != nil {
			return struct{}{}, fmt.Errorf("b has an error: %v", b.Progress().Err)
		}
		if err := os.WriteFile(pathA, datas[0], 0o644); err != nil {
			return struct{}{}, err
		}
		// Rejected until a's back-off has passed, then served.
		for tries := 0; ; tries++ {
			err := serves(0)
			if err == nil {
				break
			}
			if !errors.Is(err, errRejected) || tries > 500 {
				return struct{}{}, fmt.Errorf("a with its file back: %w", err)
			}
			if err := aio.Sleep(at, 10*time.Millisecond); err != nil {
				return struct{}{}, err
			}
		}
		if err := a.Progress().Err; err != nil {
			return struct{}{}, fmt.Errorf("a serves again but still shows %v", err)
		}
		return struct{}{}, errors.Join(errs...)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLowOpenFileLimitKeepsEveryTorrent runs itself again in a process
// whose open-file limit is 128, there to seed 300 torrents with the
// default cache bound (256, above the limit): the cache sheds its files
// when the process runs out, no torrent fails, and each answers a peer.
func TestLowOpenFileLimitKeepsEveryTorrent(t *testing.T) {
	if os.Getenv("AIOTORRENT_LOW_NOFILE") == "" {
		// The deadline only stops a child that hangs (a torrent retrying
		// forever); the child takes about a second.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLowOpenFileLimitKeepsEveryTorrent$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "AIOTORRENT_LOW_NOFILE=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS")) {
			t.Fatalf("child with 128 open files: %v\n%s", err, out)
		}
		t.Logf("child:\n%s", out)
		return
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = 128
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	const n = 300
	dir := t.TempDir()
	metas, datas := manyTorrents(t, dir, n)
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback, NoUTP: true})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		aio.Spawn(at, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		ss, errs, err := seedAll(at, c, dir, metas)
		if err != nil {
			return struct{}{}, err
		}
		t.Logf("%d torrents seeding; the file cache keeps %d open at most", n, c.files.Bound())
		for i, m := range metas {
			got, err := askBlock(at, c.Addr(), m)
			if err != nil {
				return struct{}{}, fmt.Errorf("torrent %d: %w", i, err)
			}
			if !bytes.Equal(got, datas[i]) {
				return struct{}{}, fmt.Errorf("torrent %d served %d bytes, not its data", i, len(got))
			}
			if err := ss[i].Progress().Err; err != nil {
				return struct{}{}, fmt.Errorf("torrent %d shows %v", i, err)
			}
		}
		return struct{}{}, errors.Join(errs...)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestResourceErrorsAreRetried: an operation that fails for want of a
// resource is tried again after the back-off, its error shown meanwhile
// and cleared once it goes through; any other error is returned at once.
func TestResourceErrorsAreRetried(t *testing.T) {
	metas, _ := manyTorrents(t, t.TempDir(), 1)
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback, NoUTP: true})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		s, err := c.Add(metas[0], SessionOptions{Dir: t.TempDir()})
		if err != nil {
			return struct{}{}, err
		}
		s.loop, s.res.first = at.Loop(), time.Millisecond
		var shown []string
		s.SetOnProgress(func(p Progress) { shown = append(shown, fmt.Sprint(p.Err)) })
		fails := []error{
			&os.PathError{Op: "open", Path: "a", Err: syscall.EMFILE},
			&os.PathError{Op: "write", Path: "a", Err: syscall.ENOSPC},
		}
		calls := 0
		err = s.retryResource(at, "job", func(*aio.Task) error {
			calls++
			if len(fails) > 0 {
				err := fails[0]
				fails = fails[1:]
				return err
			}
			return nil
		})
		want := []string{"job: open a: too many open files", "job: write a: no space left on device", "<nil>"}
		if err != nil || calls != 3 || !slices.Equal(shown, want) {
			return struct{}{}, fmt.Errorf("retried %d times, shown %q, returned %v; want 3, %q, nil", calls, shown, err, want)
		}
		bad := errors.New("hash mismatch")
		calls = 0
		if err := s.retryResource(at, "job", func(*aio.Task) error { calls++; return bad }); err != bad || calls != 1 {
			return struct{}{}, fmt.Errorf("other error: %d calls, returned %v; want 1, %v", calls, err, bad)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFullDiskPausesTheDownload: writes that fail with ENOSPC keep their
// verified pieces and write them again after the back-off; the error is
// shown meanwhile, the download completes byte for byte once the disk
// takes writes again, and the error clears. A full disk used to end the
// session (and with it the CLI's other torrents).
func TestFullDiskPausesTheDownload(t *testing.T) {
	dst := t.TempDir()
	var src string
	var shown []error
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src = sw.src
		if _, _, err := sw.node(at, "seeder", sw.src, true, nil); err != nil {
			return struct{}{}, err
		}
		var full atomic.Int32
		full.Store(5) // writes refused before the disk has room again
		s, h, err := sw.node(at, "leecher", dst, false, func(s *Session) {
			s.res.first = time.Millisecond
			s.writeHook = func(i int, data []byte) error {
				if full.Add(-1) >= 0 {
					return fmt.Errorf("write piece %d: %w", i, &os.PathError{Op: "write", Path: "payload/a", Err: syscall.ENOSPC})
				}
				return s.storage.WritePiece(i, data)
			}
			s.SetOnProgress(func(p Progress) {
				if p.Err != nil {
					shown = append(shown, p.Err)
				}
			})
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
	sameTree(t, src, dst)
	if len(shown) == 0 || !errors.Is(shown[0], syscall.ENOSPC) {
		t.Errorf("errors shown %v, want the full disk", shown)
	}
	if p := leech.Progress(); !p.Complete || p.Err != nil {
		t.Errorf("at the end: complete %v, error %v; want complete and none", p.Complete, p.Err)
	}
}
