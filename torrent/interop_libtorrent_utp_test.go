package torrent

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// ltUTPOnly makes a libtorrent peer speak uTP only: no TCP either way.
var ltUTPOnly = []string{
	"--set", "enable_incoming_tcp=false", "--set", "enable_outgoing_tcp=false",
	"--set", "enable_incoming_utp=true", "--set", "enable_outgoing_utp=true",
}

// TestLibtorrentLeechesFromUsOverUTP: a libtorrent leecher that speaks
// no TCP dials our seeder's UDP port (the TCP port) over uTP and
// downloads every byte.
func TestLibtorrentLeechesFromUsOverUTP(t *testing.T) {
	leechIntoLibtorrent(t, 16<<20, ltUTPOnly...)
}

// TestLibtorrentSeedsToUsOverUTP: a libtorrent seeder that speaks no TCP
// dials our leecher over uTP (our UDP port is our TCP port) and we
// download every byte from it over that connection.
func TestLibtorrentSeedsToUsOverUTP(t *testing.T) {
	needLibtorrent(t)
	sw, torrentPath := bigSwarm(t, 16<<20)
	dst := t.TempDir()
	overUTP := false
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		leech, h, err := sw.nodeWith(at, "leecher", dst, false, ClientConfig{}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		leech.onVerify = func(int) {
			for _, p := range leech.peers {
				overUTP = overUTP || p.utp
			}
		}
		seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout,
			append(ltUTPOnly, "--seed", "--connect", leech.client.Addr().String())...)
		if _, err := seeder.ready(at); err != nil {
			return struct{}{}, err
		}
		if _, err := aio.AwaitTimeout(at, h, interopTimeout); err != nil {
			return struct{}{}, fmt.Errorf("download from libtorrent: %w (progress %+v)", err, leech.Progress())
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
	if !overUTP {
		t.Fatal("no piece came while a uTP connection was up")
	}
}
