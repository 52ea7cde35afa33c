package main

import (
	"testing"

	"github.com/aiotorrent/aiotorrent/torrent"
)

// TestSources: the progress line counts web seeds among the sources, and
// says "1 peer", not "1 peers".
func TestSources(t *testing.T) {
	for _, c := range []struct {
		p    torrent.Progress
		want string
	}{
		{torrent.Progress{}, "0 peers"},
		{torrent.Progress{Peers: 1}, "1 peer"},
		{torrent.Progress{Peers: 3, WebSeeds: 1}, "3 peers, 1 web seed"},
		{torrent.Progress{WebSeeds: 2}, "0 peers, 2 web seeds"},
	} {
		if got := sources(c.p); got != c.want {
			t.Errorf("sources(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}
