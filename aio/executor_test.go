package aio

import (
	"runtime"
	"testing"
)

// TestWorkers: Loop.Workers is the one answer to "how many executor
// threads", which piece.Check and torrent's hashing size their jobs by.
func TestWorkers(t *testing.T) {
	for _, c := range []struct {
		opts []Option
		want int
	}{
		{nil, max(2, runtime.NumCPU())},
		{[]Option{WithWorkers(3)}, 3},
		{[]Option{WithWorkers(0)}, 1}, // the executor needs one to run anything
	} {
		l, err := NewLoop(c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Workers(); got != c.want {
			t.Errorf("Workers() with %d options = %d, want %d", len(c.opts), got, c.want)
		}
		l.poller.Close()
	}
}
