package torrent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// placeLongerFiles puts files longer than the torrent says into the
// download directory dst before a download of payloadSizes from src (in
// pieces of 32 KiB): zz/last.bin whole with a tail, so the resume check
// finds its last piece good; a.bin as garbage longer than the torrent's,
// and sub/c.txt right with a tail but sharing its last piece with the
// missing sub/b.bin, so both are cut by the write of a downloaded piece.
func placeLongerFiles(t *testing.T, src, dst string) {
	t.Helper()
	put := func(rel string, data []byte) {
		p := filepath.Join(dst, "payload", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(src, "payload", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	put("zz/last.bin", append(read("zz/last.bin"), bytes.Repeat([]byte("tail"), 1000)...))
	put("a.bin", bytes.Repeat([]byte{0x5a}, payloadSizes["a.bin"]+12345))
	put("sub/c.txt", append(read("sub/c.txt"), "and more"...))
}

// TestDownloadCutsFilesLongerThanTheTorrentSays: a download into a
// directory holding files longer than the torrent says ends with the
// torrent's bytes exactly. The files used to keep their tails.
func TestDownloadCutsFilesLongerThanTheTorrentSays(t *testing.T) {
	dst := t.TempDir()
	var src string
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src = sw.src
		placeLongerFiles(t, src, dst)
		for i := range 2 {
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
	if p := leech.Progress(); !p.Complete {
		t.Fatalf("progress %+v, want complete", p)
	}
	sameTree(t, src, dst)
}
