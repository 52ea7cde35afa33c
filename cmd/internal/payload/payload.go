// Package payload makes and compares the test payloads that the demo and
// the benchmark tool move through a swarm: files of pseudo-random bytes,
// written and compared a chunk at a time so that a gigabyte need not fit in
// memory.
package payload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// chunk is how much is generated, written or compared at once.
const chunk = 1 << 20

// WriteRandom writes n bytes from rng to path, creating its directory.
// ChaCha8 makes about 1 GiB/s per core.
func WriteRandom(path string, n int64, rng *rand.ChaCha8) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := make([]byte, chunk)
	for n > 0 {
		b := buf[:min(int64(len(buf)), n)]
		rng.Read(b)
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
		n -= int64(len(b))
	}
	return f.Close()
}

// SameTree compares every file under want with the one at the same path
// under got, byte for byte.
func SameTree(want, got string) error {
	return filepath.Walk(want, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		return sameFile(p, filepath.Join(got, rel))
	})
}

func sameFile(a, b string) error {
	fa, err := os.Open(a)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return err
	}
	defer fb.Close()
	ba, bb := make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); ; {
		na, errA := io.ReadFull(fa, ba)
		nb, errB := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return fmt.Errorf("%s differs from %s near offset %d", b, a, off)
		}
		off += int64(na)
		if errA != nil || errB != nil {
			if errors.Is(errA, io.ErrUnexpectedEOF) || errors.Is(errA, io.EOF) {
				return nil
			}
			return errors.Join(errA, errB)
		}
	}
}
