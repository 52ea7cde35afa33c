//go:build linux

package piece

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestStorageOnTheLoopThreadIsReported: in debug mode, Check (which hashes
// on the executor) reports nothing, and a ReadAt made by mistake on the
// loop thread is reported.
func TestStorageOnTheLoopThreadIsReported(t *testing.T) {
	l := Layout{PieceLength: 16, Length: 40, Files: files("a", 20, "b", 20)}
	data := testData(l.Length, 3)
	s, err := OpenStorage(t.TempDir(), hashed(l, data), StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeAll(t, s, data)
	var reports []string
	debug := aio.WithDebug(func(format string, args ...any) {
		reports = append(reports, fmt.Sprintf(format, args...))
	})
	var have *Bitfield
	_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
		have, err = Check(at, s, nil)
		return struct{}{}, err
	}, debug)
	if err != nil {
		t.Fatal(err)
	}
	if have.Count() != 3 || len(reports) != 0 {
		t.Fatalf("Check: %d of 3 pieces, debug reports %q; want all pieces, no report", have.Count(), reports)
	}
	_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
		return struct{}{}, s.ReadAt(make([]byte, 4), 0, 0) // deliberately on the loop
	}, debug)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || !strings.Contains(reports[0], "Storage.ReadAt on the loop thread") {
		t.Errorf("debug reports %q, want one, of ReadAt", reports)
	}
}
