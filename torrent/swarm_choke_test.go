package torrent

import (
	"fmt"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestSwarmOneSeederTenLeechers runs a seeder and ten leechers on one loop
// with our tracker. The seeder's upload is limited so that the download
// lasts several choking rounds (shortened to 100 ms, optimistic 300 ms):
// every leecher must finish with the right bytes, the seeder must never
// unchoke more than 4+1 peers at once, and its slots must go round (more
// than 4+1 distinct peers unchoked over time).
func TestSwarmOneSeederTenLeechers(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of swarm")
	}
	choke := ChokeConfig{Interval: 100 * time.Millisecond, OptimisticInterval: 300 * time.Millisecond}
	const leechers = 10
	var seeder *Session
	var sessions []*Session
	dsts := make([]string, leechers)
	var src string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, map[string]int{"big.bin": 3 << 20, "small.txt": 1000}, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src = sw.src
		seeder, _, err = sw.nodeWith(at, "seeder", sw.src, true,
			ClientConfig{MaxUploadRate: 2 << 20}, SessionOptions{Choke: choke})
		if err != nil {
			return struct{}{}, err
		}
		var hs []*aio.Handle[struct{}]
		for i := range leechers {
			dsts[i] = t.TempDir()
			s, h, err := sw.nodeWith(at, fmt.Sprintf("leecher%d", i), dsts[i], false,
				ClientConfig{}, SessionOptions{Choke: choke})
			if err != nil {
				return struct{}{}, err
			}
			sessions = append(sessions, s)
			hs = append(hs, h)
		}
		for i, h := range hs {
			if _, err := aio.AwaitTimeout(at, h, 120*time.Second); err != nil {
				return struct{}{}, fmt.Errorf("leecher%d: %w", i, err)
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sessions {
		if p := s.Progress(); !p.Complete {
			t.Errorf("leecher%d: progress %+v, want complete", i, p)
		}
		sameTree(t, src, dsts[i])
	}
	distinct, most := len(seeder.chokes.everUnchoked), seeder.chokes.maxUnchoked
	t.Logf("seeder: %d distinct peers unchoked, at most %d at once, %d bytes uploaded", distinct, most, seeder.uploaded)
	if most > 5 {
		t.Errorf("seeder unchoked %d peers at once, want at most 4+1", most)
	}
	if distinct <= 5 {
		t.Errorf("seeder unchoked %d distinct peers over the download, want more than 4+1 (slots rotate)", distinct)
	}
}
