package payload

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestSameTree(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	data := make([]byte, 5<<20+3) // several chunks and a short last one
	for i := range data {
		data[i] = byte(i)
	}
	for _, dir := range []string{a, b} {
		if err := os.WriteFile(filepath.Join(dir, "x"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := SameTree(a, b); err != nil {
		t.Errorf("identical: %v", err)
	}
	data[5<<20+1] ^= 1
	os.WriteFile(filepath.Join(b, "x"), data, 0o644)
	if err := SameTree(a, b); err == nil {
		t.Error("a flipped byte in the last chunk: no error")
	}
	os.WriteFile(filepath.Join(b, "x"), data[:100], 0o644)
	if err := SameTree(a, b); err == nil {
		t.Error("a short file: no error")
	}
}

func TestWriteRandom(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"one", "sub/two"} {
		if err := WriteRandom(filepath.Join(dir, name), 3<<20+5, rand.NewChaCha8([32]byte{1})); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "one"))
	b, _ := os.ReadFile(filepath.Join(dir, "sub", "two"))
	if len(a) != 3<<20+5 || string(a) != string(b) {
		t.Fatalf("got %d and %d bytes, want two identical files of %d (same seed)", len(a), len(b), 3<<20+5)
	}
}
