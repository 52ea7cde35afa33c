package aio_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestBusyLoopPassesThroughTheScheduler: task switches are coroutine
// switches, invisible to Go's scheduler, so a loop that never blocked
// looked to sysmon like a goroutine hogging its processor, and sysmon
// spent a tenth of a tracker's CPU preempting it and polling every 20 µs.
// A loop kept busy for several yield intervals must have yielded to the
// scheduler on its own.
func TestBusyLoopPassesThroughTheScheduler(t *testing.T) {
	const busy = 40 * time.Millisecond // five yield intervals
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		before := t.Loop().Stats().Yields
		for start := time.Now(); time.Since(start) < busy; {
			if err := aio.Yield(t); err != nil {
				return struct{}{}, err
			}
		}
		if n := t.Loop().Stats().Yields - before; n < 1 {
			return struct{}{}, fmt.Errorf("loop busy for %v yielded to the scheduler %d times, want at least 1", busy, n)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
