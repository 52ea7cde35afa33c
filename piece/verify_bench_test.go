package piece

import (
	"crypto/sha1"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The ratio that matters is BenchmarkVerify's MB/s over BenchmarkSHA1's
// times the cores (or over BenchmarkSHA1Parallel, which measures that
// product on the machine as it is at the moment): the target is 80%.

const benchPiece = 256 * kib

// BenchmarkVerify checks 256 MiB in four files, page-cached, with Check on
// a loop whose executor has one worker per CPU.
func BenchmarkVerify(b *testing.B) {
	const total = 256 << 20
	l := Layout{PieceLength: benchPiece, Length: total,
		Files: files("v/a", total/4, "v/b", total/4, "v/c", total/4, "v/d", total/4)}
	data := testData(total, 5)
	s, err := OpenStorage(b.TempDir(), hashed(l, data), StorageOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	writeAll(b, s, data)
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		have, err := aio.Run(func(t *aio.Task) (*Bitfield, error) { return Check(t, s, nil) })
		if err != nil {
			b.Fatal(err)
		}
		if !have.Full() {
			b.Fatalf("Check found %d of %d pieces", have.Count(), have.Len())
		}
	}
}

// BenchmarkSHA1 is one core's SHA-1 speed over piece-sized buffers.
func BenchmarkSHA1(b *testing.B) {
	buf := testData(benchPiece, 6)
	b.SetBytes(benchPiece)
	for range b.N {
		sha1.Sum(buf)
	}
}

// BenchmarkSHA1Parallel is SHA-1 on every core at once: the ceiling for
// BenchmarkVerify.
func BenchmarkSHA1Parallel(b *testing.B) {
	b.SetBytes(benchPiece)
	b.RunParallel(func(pb *testing.PB) {
		buf := testData(benchPiece, 6)
		for pb.Next() {
			sha1.Sum(buf)
		}
	})
}
