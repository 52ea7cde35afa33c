package aio_test

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestPostRacingCloseRunsWhatItAccepts: goroutines post while the loop
// shuts down. Post checked for a closed loop without holding the queue's
// lock, so a callback could be queued after the loop's last look at the
// queue: Post said yes and the callback never ran (and its wake went to a
// poller being closed). Every Post must either fail with ErrClosed or see
// its callback run, and none may wake a closed poller's reused fd (the
// race detector and netpoll's own test watch that).
func TestPostRacingCloseRunsWhatItAccepts(t *testing.T) {
	const rounds, posters = 50, 4
	for range rounds {
		var accepted, ran atomic.Int64
		var wg sync.WaitGroup
		_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
			l := t.Loop()
			for range posters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						err := l.Post(func() { ran.Add(1) })
						if errors.Is(err, aio.ErrClosed) {
							return
						}
						if err != nil {
							panic(err)
						}
						accepted.Add(1)
						runtime.Gosched()
					}
				}()
			}
			return struct{}{}, aio.Sleep(t, time.Millisecond)
		})
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if a, r := accepted.Load(), ran.Load(); a != r {
			t.Fatalf("Post accepted %d callbacks, the loop ran %d", a, r)
		}
	}
}
