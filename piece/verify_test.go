package piece

import (
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// hashed returns layout l with the hashes of data filled in.
func hashed(l Layout, data []byte) Layout {
	l.Hashes = make([][20]byte, l.NumPieces())
	for i := range l.Hashes {
		start := int64(i) * l.PieceLength
		l.Hashes[i] = sha1.Sum(data[start : start+l.PieceSize(i)])
	}
	return l
}

func TestHashPiece(t *testing.T) {
	l := Layout{PieceLength: 16, Length: 40, Files: files("a", 20, "b", 20)}
	data := testData(l.Length, 3)
	s, err := OpenStorage(t.TempDir(), hashed(l, data), StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 16)
	if ok, err := HashPiece(s, 0, buf); ok || err != nil {
		t.Errorf("HashPiece before writing = %v, %v; want false, nil", ok, err)
	}
	writeAll(t, s, data)
	for i := range 3 {
		if ok, err := HashPiece(s, i, buf); !ok || err != nil {
			t.Errorf("HashPiece(%d) = %v, %v; want true, nil", i, ok, err)
		}
	}
	bad := append([]byte(nil), data[16:32]...)
	bad[3] ^= 1
	if err := s.WritePiece(1, bad); err != nil {
		t.Fatal(err)
	}
	if ok, err := HashPiece(s, 1, buf); ok || err != nil {
		t.Errorf("HashPiece of a corrupt piece = %v, %v; want false, nil", ok, err)
	}
	noHashes, err := OpenStorage(t.TempDir(), l, StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := HashPiece(noHashes, 0, buf); !errors.Is(err, ErrNoHashes) {
		t.Errorf("HashPiece without hashes = %v, want ErrNoHashes", err)
	}
}

func TestCheck(t *testing.T) {
	// 40 pieces of 16 KiB over three files; file c goes missing, piece 3
	// is corrupted, and three jobs claim three pieces at a time.
	const pl = 16 * kib
	l := Layout{PieceLength: pl, Length: 40*pl - 100, Files: files("a", 10*pl+7, "b", 20*pl, "c", 10*pl-107)}
	data := testData(l.Length, 4)
	dir := t.TempDir()
	s, err := OpenStorage(dir, hashed(l, data), StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeAll(t, s, data)
	bad := append([]byte(nil), data[3*pl:4*pl]...)
	bad[100] ^= 0xff
	if err := s.WritePiece(3, bad); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Remove(filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
	// A fresh storage, as on resume: the old one's cached handle would
	// still read the deleted file.
	s, err = OpenStorage(dir, hashed(l, data), StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	want := NewBitfield(40)
	for i := range 30 { // piece 30 starts in b and ends in the missing c
		if i != 3 {
			want.Set(i)
		}
	}
	var calls, last int
	got, err := aio.Run(func(t *aio.Task) (*Bitfield, error) {
		return check(t, s, func(done, total int) {
			calls++
			if done < last || done > total || total != 40 {
				panic("progress out of order")
			}
			last = done
		}, 3, 3)
	}, aio.WithWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("Check() = %s, want %s", got, want)
	}
	if calls == 0 || last != 40 {
		t.Errorf("progress called %d times, last done %d; want at least once, ending at 40", calls, last)
	}
}

func TestCheckReadError(t *testing.T) {
	l := Layout{PieceLength: 16, Length: 32, Files: files("a", 32)}
	dir := t.TempDir()
	s, err := OpenStorage(dir, hashed(l, make([]byte, 32)), StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.Mkdir(filepath.Join(dir, "a"), 0o755); err != nil { // a directory where a file should be
		t.Fatal(err)
	}
	_, err = aio.Run(func(t *aio.Task) (*Bitfield, error) { return Check(t, s, nil) })
	if err == nil || errors.Is(err, ErrMissing) {
		t.Errorf("Check over an unreadable file = %v, want an error that is not ErrMissing", err)
	}
}

func TestCheckCanceled(t *testing.T) {
	l := Layout{PieceLength: 16, Length: 64, Files: files("a", 64)}
	s, err := OpenStorage(t.TempDir(), hashed(l, make([]byte, 64)), StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = aio.Run(func(t *aio.Task) (*Bitfield, error) {
		h := aio.Spawn(t, "check", func(t *aio.Task) (*Bitfield, error) { return check(t, s, nil, 2, 1) })
		h.Cancel()
		return aio.Await(t, h)
	})
	if !errors.Is(err, aio.ErrCanceled) {
		t.Errorf("cancelled Check = %v, want aio.ErrCanceled", err)
	}
}

// TestCheckSplitsIntoTheLoopsWorkers: Check sized its jobs from NumCPU
// (as aio's default pool does) instead of asking the loop, so on a loop
// given another number of workers it queued more jobs than there were
// threads to run them. With one worker it must submit one hashing job
// (plus the one that looks for missing files).
func TestCheckSplitsIntoTheLoopsWorkers(t *testing.T) {
	const pl = 16 * kib
	// Four claims' worth of pieces (checkClaimBytes each), none on disk.
	n := 4 * checkClaimBytes / pl
	l := Layout{PieceLength: pl, Length: int64(n) * pl, Files: files("a", n*pl), Hashes: make([][20]byte, n)}
	s, err := OpenStorage(t.TempDir(), l, StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	loop, err := aio.NewLoop(aio.WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	h := aio.Spawn(loop, "check", func(t *aio.Task) (*Bitfield, error) { return Check(t, s, nil) })
	if err := loop.Run(h.Task()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Result(); err != nil {
		t.Fatal(err)
	}
	if got := loop.Stats().ExecJobs; got != 2 {
		t.Errorf("Check on a one-worker loop ran %d executor jobs, want 2 (missing files, then one hashing job)", got)
	}
}
