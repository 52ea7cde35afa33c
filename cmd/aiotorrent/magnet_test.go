package main

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// TestDownloadMagnetLink: `seed` serves a torrent; `download` is given only
// a magnet link with the seeder as x.pe, fetches the metadata from it
// (BEP 9), then the data, and the files come out identical.
func TestDownloadMagnetLink(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	seeder := startSessionsCmd(t, func(f *Factory, ready func(netip.AddrPort, func())) error {
		return seedRun(f, &SeedOptions{Torrents: []string{tp}, Dir: root, Quiet: true, ready: ready})
	})
	defer seeder.stop(t)
	m, err := metainfo.Load(tp)
	if err != nil {
		t.Fatal(err)
	}
	link := fmt.Sprintf("magnet:?xt=urn:btih:%x&dn=share&x.pe=%s", m.InfoHash, seeder.peer)

	dst := t.TempDir()
	r := runCLI(t, "", "download", link, "-o", dst, "--port", "0", "--no-dht")
	if r.code != exitOK {
		t.Fatalf("exit %d, stdout %q, stderr %q; seeder %q", r.code, r.out, r.errOut, seeder.out.String())
	}
	if !strings.Contains(r.errOut, fmt.Sprintf("fetching the metadata of %x", m.InfoHash)) || !strings.Contains(r.out, "share: 361.3 KiB in ") {
		t.Fatalf("stdout %q, stderr %q: want the fetch and the summary", r.out, r.errOut)
	}
	for f := range shareSizes {
		wantSameFile(t, filepath.Join(root, "share", f), filepath.Join(dst, "share", f))
	}

	// The file list of a magnet link is unknown until its metadata comes.
	if r := runCLI(t, "", "download", link, "--files", "0"); r.code != exitUsage {
		t.Errorf("--files with a magnet link: exit %d, want %d", r.code, exitUsage)
	}
}

// TestMagnetWithNoSourceOfPeers: a magnet link with no tracker and no
// peer, with --no-dht, failed with "no peer sent the metadata", as if
// peers had been asked.
func TestMagnetWithNoSourceOfPeers(t *testing.T) {
	link := "magnet:?xt=urn:btih:d4bcc7fa8bbf2321f466393bcca48f03e7609e30"
	r := runCLI(t, "", "download", link, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd")
	want := "aiotorrent: magnet d4bcc7fa8bbf2321f466393bcca48f03e7609e30: no source of peers: the link names no tracker (tr=) and no peer (x.pe=), and the DHT is off; drop --no-dht or give --peer\n"
	if r.code != exitFailure || r.errOut != want {
		t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.errOut, exitFailure, want)
	}
}
