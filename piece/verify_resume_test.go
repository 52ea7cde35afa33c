package piece

import (
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestCheckShortFileKeepsItsPieces: a download writes pieces out of order,
// so a file can be shorter than its length with verified pieces before the
// end. Check must find them (skipping only files that do not exist).
func TestCheckShortFileKeepsItsPieces(t *testing.T) {
	const pl = 16 * kib
	l := Layout{PieceLength: pl, Length: 8 * pl, Files: files("a", 6*pl, "b", 2*pl)}
	data := testData(l.Length, 9)
	s, err := OpenStorage(t.TempDir(), hashed(l, data), StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, i := range []int{1, 3} { // a stays 4 pieces long of 6; b never exists
		if err := s.WritePiece(i, data[i*pl:(i+1)*pl]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := aio.Run(func(t *aio.Task) (*Bitfield, error) { return Check(t, s, nil) })
	if err != nil {
		t.Fatal(err)
	}
	if want := "01010000"; got.String() != want {
		t.Fatalf("Check() = %s, want %s", got, want)
	}
}
