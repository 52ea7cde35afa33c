package aio_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// since is the virtual time elapsed on t's loop since start.
func since(t *aio.Task, start time.Time) time.Duration { return t.Loop().Now().Sub(start) }

// TestCancelDuringWaitForCleanupEndsTask is the announcer that kept
// announcing: WaitFor used to time a child task, cancel it at the
// deadline and wait for its cleanup; a cancel of the caller that arrived
// during that wait was consumed by it, WaitFor returned ErrTimeout, and
// the caller's next wait (a 30-minute re-announce sleep) went on.
func TestCancelDuringWaitForCleanupEndsTask(t *testing.T) {
	var ended time.Duration
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		start := t.Loop().Now()
		h := aio.Spawn(t, "announcer", func(t *aio.Task) (struct{}, error) {
			for {
				aio.WaitFor(t, time.Second, func(t *aio.Task) (struct{}, error) {
					err := aio.Sleep(t, time.Hour)
					aio.Sleep(t, 100*time.Millisecond) // cleanup that waits
					return struct{}{}, err
				})
				if err := aio.Sleep(t, 30*time.Minute); err != nil {
					ended = since(t, start)
					return struct{}{}, err
				}
			}
		})
		aio.Sleep(t, 1050*time.Millisecond)
		h.Cancel()
		_, err := aio.Await(t, h)
		if !errors.Is(err, aio.ErrCanceled) {
			return struct{}{}, fmt.Errorf("announcer ended with %v, want ErrCanceled", err)
		}
		return struct{}{}, nil
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if ended != 1050*time.Millisecond {
		t.Fatalf("announcer ended %v after the start, want at the cancel (1.05s)", ended)
	}
}

func TestWaitForKeepsCancelAndResult(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		// A cancel during WaitFor is a cancel, not a timeout.
		h := aio.Spawn(t, "x", func(t *aio.Task) (int, error) {
			return aio.WaitFor(t, time.Hour, func(t *aio.Task) (int, error) {
				return 0, aio.Sleep(t, 2*time.Hour)
			})
		})
		aio.Sleep(t, time.Second)
		h.Cancel()
		if _, err := aio.Await(t, h); !errors.Is(err, aio.ErrCanceled) {
			return struct{}{}, fmt.Errorf("cancelled WaitFor: got %v, want ErrCanceled", err)
		}
		// A value produced after the deadline passed is still returned.
		v, err := aio.WaitFor(t, time.Second, func(t *aio.Task) (int, error) {
			aio.Sleep(t, time.Hour) // ErrTimeout, ignored
			return 42, nil
		})
		if v != 42 || err != nil {
			return struct{}{}, fmt.Errorf("late result: got %d, %v; want 42, nil", v, err)
		}
		// Nothing is spawned to time a call.
		before := t.Loop().Stats().Spawned
		aio.WaitFor(t, time.Second, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Millisecond) })
		if n := t.Loop().Stats().Spawned - before; n != 0 {
			return struct{}{}, fmt.Errorf("WaitFor spawned %d tasks", n)
		}
		return struct{}{}, nil
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
}

func TestTimeoutScopesNest(t *testing.T) {
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		start := t.Loop().Now()
		var log []string
		outer := aio.Timeout(t, time.Second, func(t *aio.Task) error {
			inner := aio.Timeout(t, time.Hour, func(t *aio.Task) error {
				return aio.Sleep(t, 2*time.Hour)
			})
			log = append(log, fmt.Sprintf("inner %v at %v", inner, since(t, start)))
			// Still inside the expired outer scope: no more waiting.
			log = append(log, fmt.Sprintf("then %v", aio.Sleep(t, time.Millisecond)))
			return inner
		})
		log = append(log, fmt.Sprintf("outer %v", outer))
		// Outside every scope, waiting works again.
		log = append(log, fmt.Sprintf("after %v", aio.Sleep(t, time.Millisecond)))
		return fmt.Sprint(log), nil
	}, aio.WithVirtualTime())
	want := "[inner aio: timeout at 1s then aio: timeout outer aio: timeout after <nil>]"
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
}

func TestShieldHoldsCancelOffUntilItsDeadline(t *testing.T) {
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		var log []string
		h := aio.Spawn(t, "cleanup", func(t *aio.Task) (struct{}, error) {
			err := aio.Sleep(t, time.Hour)
			log = append(log, fmt.Sprint("sleep: ", err))
			start := t.Loop().Now()
			serr := aio.Shield(t, 2*time.Second, func(t *aio.Task) error {
				// Cancelled again while shielded: the wait goes on.
				if err := aio.Sleep(t, time.Second); err != nil {
					return err
				}
				log = append(log, fmt.Sprintf("shielded sleep done at +%v", since(t, start)))
				return aio.Sleep(t, time.Hour) // past the shield's own deadline
			})
			log = append(log, fmt.Sprintf("shield: %v at +%v", serr, since(t, start)))
			log = append(log, fmt.Sprint("after: ", aio.Yield(t)))
			return struct{}{}, err
		})
		aio.Sleep(t, time.Second)
		h.Cancel()
		aio.Sleep(t, 500*time.Millisecond)
		h.Cancel() // lands inside the shield
		_, err := aio.Await(t, h)
		log = append(log, fmt.Sprint("task: ", err))
		return fmt.Sprint(log), nil
	}, aio.WithVirtualTime())
	want := "[sleep: aio: canceled shielded sleep done at +1s shield: aio: timeout at +2s after: aio: canceled task: aio: canceled]"
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
}

// TestCleanupAwaitsAtLoopClose: the loop, a group and whoever owns the
// group may all cancel the same task when the program ends; its shielded
// cleanup (a "stopped" announce) must still complete. A second cancel used
// to cut it short.
func TestCleanupAwaitsAtLoopClose(t *testing.T) {
	var log []string
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		g := aio.NewGroup(t)
		g.Go("announcer", func(t *aio.Task) error {
			defer aio.Shield(t, 5*time.Second, func(t *aio.Task) error {
				err := aio.Sleep(t, 200*time.Millisecond) // the "stopped" round trip
				log = append(log, fmt.Sprint("stopped sent: ", err))
				return err
			})
			return aio.Sleep(t, time.Hour)
		})
		aio.Sleep(t, time.Second)
		g.Cancel()
		g.Cancel()
		return struct{}{}, nil // the loop cancels the announcer a third time
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(log) != "[stopped sent: <nil>]" {
		t.Fatalf("log %q, want the stopped announce sent", log)
	}
}

func TestGroupIgnoresChildCancelledOnItsOwn(t *testing.T) {
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		g := aio.NewGroup(t)
		sibling := "not finished"
		g.Go("quitter", func(t *aio.Task) error {
			t.Cancel() // gives up on its own
			return aio.Sleep(t, time.Hour)
		})
		g.Go("sibling", func(t *aio.Task) error {
			if err := aio.Sleep(t, time.Second); err != nil {
				sibling = err.Error()
				return err
			}
			sibling = "finished"
			return nil
		})
		err := g.Wait(t)
		late := g.Go("late", func(t *aio.Task) error { return nil })
		return fmt.Sprintf("wait %v, sibling %s, late child %v", err, sibling, late), nil
	}, aio.WithVirtualTime())
	want := "wait <nil>, sibling finished, late child aio: closed"
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
}

func TestGroupWaitTimesOutAndWaitsForChildren(t *testing.T) {
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		start := t.Loop().Now()
		g := aio.NewGroup(t)
		var child string
		g.Go("slow", func(t *aio.Task) error {
			err := aio.Sleep(t, time.Hour)
			// Its cleanup waits, shielded, after the group's deadline.
			aio.Shield(t, time.Second, func(t *aio.Task) error { return aio.Sleep(t, 100*time.Millisecond) })
			child = fmt.Sprintf("%v at %v", err, since(t, start))
			return err
		})
		err := aio.Timeout(t, time.Second, g.Wait)
		return fmt.Sprintf("wait %v at %v; child %s", err, since(t, start), child), nil
	}, aio.WithVirtualTime())
	want := "wait aio: timeout at 1.1s; child aio: canceled at 1.1s"
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
}

func TestTimerStoppedByAnotherInTheSameBatch(t *testing.T) {
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		l := t.Loop()
		var log []string
		var second *aio.Timer
		l.AfterFunc(time.Second, func() {
			log = append(log, fmt.Sprintf("first stops second: %v", second.Stop()))
		})
		second = l.AfterFunc(time.Second, func() { log = append(log, "second fired") })
		aio.Sleep(t, 2*time.Second)
		return fmt.Sprint(log), nil
	}, aio.WithVirtualTime())
	if want := "[first stops second: true]"; err != nil || got != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

// TestDueTimersDoNotStarveSockets: a task that keeps re-arming a timer
// that is due at once (a 1 ns sleep) used to keep the loop from polling:
// data written at spin 1,412 was read at spin 200,000. Every reason to
// skip the poll now obeys the same 64-step bound.
func TestDueTimersDoNotStarveSockets(t *testing.T) {
	const spins, writeAt = 20000, 1000
	readAt, err := aio.Run(func(t *aio.Task) (int, error) {
		ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		client, err := aio.DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return 0, err
		}
		defer client.Close()
		server, err := ln.Accept(t)
		if err != nil {
			return 0, err
		}
		defer server.Close()
		spin, readAt := 0, -1
		reader := aio.Spawn(t, "reader", func(t *aio.Task) (struct{}, error) {
			_, err := server.Read(t, make([]byte, 1))
			readAt = spin
			return struct{}{}, err
		})
		for spin = 0; spin < spins && readAt < 0; spin++ {
			if spin == writeAt {
				if _, err := client.Write(t, []byte{1}); err != nil {
					return 0, err
				}
			}
			aio.Sleep(t, time.Nanosecond)
		}
		reader.Cancel()
		if _, err := aio.Await(t, reader); err != nil {
			return 0, fmt.Errorf("reader: %w", err)
		}
		return readAt, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if readAt < writeAt || readAt > writeAt+2*64 {
		t.Fatalf("data written at spin %d was read at spin %d, want within %d spins", writeAt, readAt, 2*64)
	}
}

// TestCancelledReaderOfBusySocketStops: a read that finds data never
// parks, so a cancel must be seen at the call itself, or a task reading
// a socket that always has data would never end.
func TestCancelledReaderOfBusySocketStops(t *testing.T) {
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return "", err
		}
		defer ln.Close()
		client, err := aio.DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return "", err
		}
		defer client.Close()
		server, err := ln.Accept(t)
		if err != nil {
			return "", err
		}
		defer server.Close()
		if _, err := client.Write(t, make([]byte, 64*1024)); err != nil {
			return "", err
		}
		t.Cancel()
		n, err := server.Read(t, make([]byte, 16))
		return fmt.Sprintf("%d, %v", n, err), nil
	})
	if want := "0, aio: canceled"; err != nil || got != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}
