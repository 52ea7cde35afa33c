package torrent

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
)

// TestSwarmSelectiveDownload skips two files: b.bin, which shares no piece
// with a wanted file and must not be created, and d.bin, which lies in the
// last piece of the wanted c.bin and so arrives whole with it (the
// documented partial-file rule of SessionOptions.SkipFiles).
func TestSwarmSelectiveDownload(t *testing.T) {
	const pieceLen = 32 << 10
	sizes := map[string]int{"a.bin": 2 * pieceLen, "b.bin": 3 * pieceLen, "c.bin": 50_000, "d.bin": 10_000}
	dst := t.TempDir()
	var leech *Session
	var src string
	var meta *metainfo.Torrent
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, sizes, pieceLen)
		if err != nil {
			return struct{}{}, err
		}
		src, meta = sw.src, sw.meta
		if _, _, err := sw.node(at, "seeder", sw.src, true, nil); err != nil {
			return struct{}{}, err
		}
		skip := make([]bool, len(sw.meta.Files))
		for i, f := range sw.meta.Layout().Files {
			base := filepath.Base(f.Path)
			skip[i] = base == "b.bin" || base == "d.bin"
		}
		s, h, err := sw.nodeWith(at, "leecher", dst, false, ClientConfig{}, SessionOptions{SkipFiles: skip, Sequential: true})
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
	p := leech.Progress()
	// Pieces 0-1 (a.bin), 5-6 (c.bin and d.bin): 213,840 - 5×32 KiB in the last.
	wantTotal := int64(3*pieceLen + (2*pieceLen + 3*pieceLen + 50_000 + 10_000 - 6*pieceLen))
	if !p.Complete || p.Total != wantTotal || p.Verified != wantTotal {
		t.Fatalf("progress %+v, want complete with %d bytes wanted and verified", p, wantTotal)
	}
	if p.PiecesDone != 4 {
		t.Errorf("%d pieces verified, want 4", p.PiecesDone)
	}
	for _, name := range []string{"a.bin", "c.bin", "d.bin"} {
		want, _ := os.ReadFile(filepath.Join(src, meta.Name, name))
		got, err := os.ReadFile(filepath.Join(dst, meta.Name, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %d bytes (%v), want the source's %d", name, len(got), err, len(want))
		}
	}
	if _, err := os.Stat(filepath.Join(dst, meta.Name, "b.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("skipped b.bin: stat error %v, want not created", err)
	}
}

// TestSeedRatioAndTime: a seeder with a ratio goal stops once it uploaded
// that much; one with a time goal stops after that long.
func TestSeedRatioAndTime(t *testing.T) {
	dst := t.TempDir()
	var seeder, timed *Session
	var timedStopped time.Time
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		var ratioH, timeH *aio.Handle[struct{}]
		seeder, ratioH, err = sw.nodeWith(at, "ratio seeder", sw.src, true, ClientConfig{}, SessionOptions{SeedRatio: 1})
		if err != nil {
			return struct{}{}, err
		}
		timed, timeH, err = sw.nodeWith(at, "timed seeder", sw.src, true, ClientConfig{},
			SessionOptions{SeedTime: 300 * time.Millisecond, NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		if _, err := aio.AwaitTimeout(at, timeH, 30*time.Second); err != nil {
			return struct{}{}, err
		}
		timedStopped = at.Loop().Now()
		_, h, err := sw.node(at, "leecher", dst, false, nil)
		if err != nil {
			return struct{}{}, err
		}
		if _, err := aio.AwaitTimeout(at, h, 60*time.Second); err != nil {
			return struct{}{}, err
		}
		_, err = aio.AwaitTimeout(at, ratioH, 30*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := timedStopped.Sub(timed.finished); got < 300*time.Millisecond {
		t.Errorf("timed seeder stopped %v after the check, want at least 300ms", got)
	}
	if p := seeder.Progress(); p.Uploaded < p.Total {
		t.Errorf("ratio seeder uploaded %d bytes of %d, want ratio 1 reached", p.Uploaded, p.Total)
	}
}
