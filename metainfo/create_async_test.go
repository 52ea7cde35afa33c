package metainfo

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestCreateAsyncMatchesSync: many small chunks on a one-worker and a
// four-worker executor give the same bytes as the synchronous path, and
// progress counts up to the total.
func TestCreateAsyncMatchesSync(t *testing.T) {
	opts := CreateOptions{
		Path:           filepath.Join(testdataDir, "files", "multi"),
		Announce:       [][]string{{testAnnounce}},
		PieceLength:    16, // 3,376 pieces: 53 chunks
		NoCreationDate: true,
	}
	_, want, err := CreateSync(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 4} {
		var calls, last, total int
		got, err := aio.Run(func(task *aio.Task) ([]byte, error) {
			_, data, err := Create(task, opts, func(done, n int) {
				if done <= last {
					t.Errorf("progress went from %d to %d", last, done)
				}
				calls, last, total = calls+1, done, n
			})
			return data, err
		}, aio.WithWorkers(workers))
		if err != nil {
			t.Fatalf("%d workers: %v", workers, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d workers: Create and CreateSync differ", workers)
		}
		if calls != 53 || last != 3376 || total != 3376 {
			t.Errorf("%d workers: progress: got %d calls ending at %d/%d, want 53 ending at 3376/3376",
				workers, calls, last, total)
		}
	}
}

func TestCreateAsyncErrors(t *testing.T) {
	_, err := aio.Run(func(task *aio.Task) (struct{}, error) {
		_, _, err := Create(task, CreateOptions{Path: filepath.Join(t.TempDir(), "missing")}, nil)
		return struct{}{}, err
	})
	if err == nil {
		t.Error("Create of a missing path: got no error")
	}
}

// TestCreateAsyncCancel: a cancelled Create returns ErrCanceled instead
// of waiting for the hashing to finish.
func TestCreateAsyncCancel(t *testing.T) {
	opts := CreateOptions{Path: filepath.Join(testdataDir, "files", "multi"), PieceLength: 16, NoCreationDate: true}
	_, err := aio.Run(func(task *aio.Task) (struct{}, error) {
		var h *aio.Handle[[]byte]
		h = aio.Spawn(task, "create", func(ct *aio.Task) ([]byte, error) {
			_, data, err := Create(ct, opts, func(done, total int) {
				if done >= hashChunkPieces {
					h.Cancel() // after the first chunk, with more in flight
				}
			})
			return data, err
		})
		_, err := aio.Await(task, h)
		return struct{}{}, err
	})
	if !errors.Is(err, aio.ErrCanceled) {
		t.Errorf("got %v, want aio.ErrCanceled", err)
	}
}
