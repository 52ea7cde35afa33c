package aio_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

func TestGatherTakesLongestNotSum(t *testing.T) {
	start := time.Now()
	got, err := aio.Run(func(t *aio.Task) ([]string, error) {
		return aio.Gather(t, quiet("a", 2), quiet("b", 1), quiet("c", 3))
	})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("got %v, want [a b c]", got)
	}
	if elapsed < 3*unit || elapsed >= 4*unit {
		t.Fatalf("took %v, want between 3 and 4 units (%v each)", elapsed, unit)
	}
}

func quiet(v string, units time.Duration) func(*aio.Task) (string, error) {
	return func(t *aio.Task) (string, error) { return v, aio.Sleep(t, units*unit) }
}

func TestRunReturnsMainResult(t *testing.T) {
	v, err := aio.Run(func(t *aio.Task) (int, error) { return 42, nil })
	if v != 42 || err != nil {
		t.Fatalf("got %d, %v; want 42, nil", v, err)
	}
	boom := errors.New("boom")
	_, err = aio.Run(func(t *aio.Task) (int, error) { return 0, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
}

func TestPanicBecomesTaskError(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		h := aio.Spawn(t, "bad", func(t *aio.Task) (int, error) {
			var m map[string]int
			m["x"] = 1 // panics
			return 1, nil
		})
		_, err := aio.Await(t, h)
		return 0, err
	})
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Task != "bad" {
		t.Fatalf("got %v, want a PanicError from task bad", err)
	}
}

func TestCancelDeliveredAtAwait(t *testing.T) {
	var trace []string
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		h := aio.Spawn(t, "sleeper", func(t *aio.Task) (int, error) {
			err := aio.Sleep(t, time.Hour)
			trace = append(trace, fmt.Sprintf("sleep returned %v", err))
			return 0, err
		})
		aio.Yield(t) // let it start and park
		h.Cancel()
		_, err := aio.Await(t, h)
		return 0, err
	}, aio.WithVirtualTime())
	if !errors.Is(err, aio.ErrCanceled) {
		t.Fatalf("got %v, want ErrCanceled", err)
	}
	if want := "sleep returned aio: canceled"; len(trace) != 1 || trace[0] != want {
		t.Fatalf("trace %q, want [%q]", trace, want)
	}
}

func TestCancelBeforeFirstStep(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		h := aio.Spawn(t, "x", func(t *aio.Task) (int, error) {
			return 7, aio.Sleep(t, time.Second)
		})
		h.Cancel()
		return aio.Await(t, h)
	}, aio.WithVirtualTime())
	if !errors.Is(err, aio.ErrCanceled) {
		t.Fatalf("got %v, want ErrCanceled", err)
	}
}

func TestCancelIsSticky(t *testing.T) {
	// asyncio delivers a cancel once and the next await goes on waiting;
	// here it stays: every await after the cancel returns ErrCanceled,
	// and a second cancel changes nothing.
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		h := aio.Spawn(t, "x", func(t *aio.Task) (string, error) {
			first := aio.Sleep(t, time.Hour)
			second := aio.Sleep(t, time.Millisecond)
			third := aio.Yield(t)
			return fmt.Sprintf("%v / %v / %v / %v", first, second, third, t.Cancelled()), nil
		})
		aio.Yield(t)
		h.Cancel()
		h.Cancel()
		return aio.Await(t, h)
	}, aio.WithVirtualTime())
	if want := "aio: canceled / aio: canceled / aio: canceled / true"; err != nil || got != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

func TestAwaitOutsideTaskIsAnError(t *testing.T) {
	var other *aio.Task
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		h := aio.Spawn(t, "other", func(t *aio.Task) (int, error) {
			return 0, aio.Sleep(t, time.Millisecond)
		})
		other = h.Task()
		// Using another task's handle from this task must not deadlock.
		if err := aio.Sleep(other, time.Millisecond); !errors.Is(err, aio.ErrNotInTask) {
			return 0, fmt.Errorf("sleep on another task's handle: got %v, want ErrNotInTask", err)
		}
		return aio.Await(t, h)
	})
	if err != nil {
		t.Fatal(err)
	}
	// And after the loop has gone.
	if err := aio.Sleep(other, time.Millisecond); !errors.Is(err, aio.ErrNotInTask) {
		t.Fatalf("after Run: got %v, want ErrNotInTask", err)
	}
	var nilTask *aio.Task
	if err := aio.Sleep(nilTask, time.Millisecond); !errors.Is(err, aio.ErrNotInTask) {
		t.Fatalf("nil task: got %v, want ErrNotInTask", err)
	}
}

func TestFutureResolvedByCallback(t *testing.T) {
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		f := aio.NewFuture[string](t.Loop())
		t.Loop().AfterFunc(5*time.Millisecond, func() { f.Resolve("done") })
		return aio.Await(t, f)
	})
	if got != "done" || err != nil {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestFutureResolvedTwicePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "twice") {
			t.Fatalf("recovered %v, want a 'resolved twice' panic", r)
		}
	}()
	f := aio.NewFuture[int](nil)
	f.Resolve(1)
	f.Resolve(2)
}

func TestVirtualTimeIsFast(t *testing.T) {
	start := time.Now()
	elapsed, err := aio.Run(func(t *aio.Task) (time.Duration, error) {
		t0 := t.Loop().Now()
		for range 450 {
			if err := aio.Sleep(t, time.Second); err != nil {
				return 0, err
			}
		}
		return t.Loop().Now().Sub(t0), nil
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if elapsed != 450*time.Second {
		t.Fatalf("virtual elapsed %v, want 450s", elapsed)
	}
	if real := time.Since(start); real > 2*time.Second {
		t.Fatalf("450 virtual seconds took %v of real time", real)
	}
}

func TestTimersFireInOrder(t *testing.T) {
	var order []int
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		l := t.Loop()
		for _, d := range []int{30, 10, 20, 10} {
			l.AfterFunc(time.Duration(d)*time.Millisecond, func() { order = append(order, d) })
		}
		stopped := l.AfterFunc(15*time.Millisecond, func() { order = append(order, -1) })
		if !stopped.Stop() {
			return 0, errors.New("Stop of an armed timer returned false")
		}
		if stopped.Stop() {
			return 0, errors.New("second Stop returned true")
		}
		return 0, aio.Sleep(t, 40*time.Millisecond)
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[10 10 20 30]" {
		t.Fatalf("fired %v, want [10 10 20 30]", order)
	}
}

func TestShutdownCancelsLeftoverTasks(t *testing.T) {
	var cleaned []string
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		for _, name := range []string{"x", "y"} {
			aio.Spawn(t, name, func(t *aio.Task) (int, error) {
				defer func() { cleaned = append(cleaned, name) }()
				return 0, aio.Sleep(t, time.Hour)
			})
		}
		return 0, aio.Yield(t)
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cleaned) != "[y x]" && fmt.Sprint(cleaned) != "[x y]" {
		t.Fatalf("cleaned %v, want both tasks", cleaned)
	}
}
