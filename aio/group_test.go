package aio_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

func TestGroupFailureCancelsSiblings(t *testing.T) {
	boom := errors.New("boom")
	var siblingErr error
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		g := aio.NewGroup(t)
		g.Go("sibling", func(t *aio.Task) error {
			siblingErr = aio.Sleep(t, time.Hour)
			return siblingErr
		})
		g.Go("failing", func(t *aio.Task) error {
			if err := aio.Sleep(t, time.Millisecond); err != nil {
				return err
			}
			return boom
		})
		return 0, g.Wait(t)
	}, aio.WithVirtualTime())
	if !errors.Is(err, boom) {
		t.Fatalf("Wait: got %v, want boom", err)
	}
	if !errors.Is(siblingErr, aio.ErrCanceled) {
		t.Fatalf("sibling: got %v, want ErrCanceled", siblingErr)
	}
}

func TestGroupWaitCancelledWaitsForChildren(t *testing.T) {
	var childDone bool
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		parent := aio.Spawn(t, "parent", func(t *aio.Task) (int, error) {
			g := aio.NewGroup(t)
			g.Go("child", func(t *aio.Task) error {
				err := aio.Sleep(t, time.Hour)
				// Cleanup that itself awaits: the group must wait for it.
				aio.Sleep(t, time.Millisecond)
				childDone = true
				return err
			})
			return 0, g.Wait(t)
		})
		aio.Sleep(t, time.Millisecond)
		parent.Cancel()
		return aio.Await(t, parent)
	}, aio.WithVirtualTime())
	if !errors.Is(err, aio.ErrCanceled) {
		t.Fatalf("got %v, want ErrCanceled", err)
	}
	if !childDone {
		t.Fatal("Group.Wait returned before its child finished cleaning up")
	}
}

func TestGatherFirstError(t *testing.T) {
	boom := errors.New("boom")
	_, err := aio.Run(func(t *aio.Task) ([]int, error) {
		return aio.Gather(t,
			func(t *aio.Task) (int, error) { return 1, aio.Sleep(t, time.Hour) },
			func(t *aio.Task) (int, error) { return 0, boom },
		)
	}, aio.WithVirtualTime())
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
}

func TestWaitFor(t *testing.T) {
	var innerErr error
	got, err := aio.Run(func(t *aio.Task) (string, error) {
		_, err := aio.WaitFor(t, 10*time.Millisecond, func(t *aio.Task) (int, error) {
			innerErr = aio.Sleep(t, time.Hour)
			return 0, innerErr
		})
		if !errors.Is(err, aio.ErrTimeout) {
			return "", fmt.Errorf("slow: got %v, want ErrTimeout", err)
		}
		return aio.WaitFor(t, time.Hour, func(t *aio.Task) (string, error) {
			return "fast", aio.Sleep(t, time.Millisecond)
		})
	}, aio.WithVirtualTime())
	if err != nil || got != "fast" {
		t.Fatalf("got %q, %v; want fast", got, err)
	}
	if !errors.Is(innerErr, aio.ErrTimeout) {
		t.Fatalf("the timed-out function saw %v, want ErrTimeout", innerErr)
	}
}

func TestQueueFIFOAndBackpressure(t *testing.T) {
	var log []string
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		q := aio.NewQueue[int](2)
		prod := aio.Spawn(t, "producer", func(t *aio.Task) (int, error) {
			for i := range 5 {
				if err := q.Put(t, i); err != nil {
					return 0, err
				}
				log = append(log, fmt.Sprintf("put %d", i))
			}
			q.Close()
			return 0, nil
		})
		for {
			v, err := q.Get(t)
			if errors.Is(err, aio.ErrClosed) {
				break
			}
			if err != nil {
				return 0, err
			}
			log = append(log, fmt.Sprintf("get %d", v))
		}
		return aio.Await(t, prod)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The producer runs ahead by the capacity (2), then waits for the
	// consumer; every item comes out in order.
	want := "[put 0 put 1 get 0 get 1 put 2 put 3 get 2 get 3 put 4 get 4]"
	if fmt.Sprint(log) != want {
		t.Fatalf("got  %v\nwant %s", log, want)
	}
}

func TestQueueTryAndCancelledGetter(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		q := aio.NewQueue[string](1)
		if _, ok := q.TryGet(); ok {
			return 0, errors.New("TryGet on empty queue succeeded")
		}
		getter := aio.Spawn(t, "getter", func(t *aio.Task) (string, error) { return q.Get(t) })
		aio.Yield(t)
		getter.Cancel()
		aio.Yield(t)
		// The cancelled getter left the queue; the item stays for the next.
		if !q.TryPut("x") || q.TryPut("y") {
			return 0, errors.New("TryPut: want room for exactly one")
		}
		if _, err := aio.Await(t, getter); !errors.Is(err, aio.ErrCanceled) {
			return 0, fmt.Errorf("getter: got %v, want ErrCanceled", err)
		}
		if v, ok := q.TryGet(); !ok || v != "x" {
			return 0, fmt.Errorf("TryGet: got %q, %v", v, ok)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEventAndSemaphore(t *testing.T) {
	var maxActive, active int
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		ev := aio.NewEvent()
		sem := aio.NewSemaphore(2)
		g := aio.NewGroup(t)
		for range 6 {
			g.Go("worker", func(t *aio.Task) error {
				if err := ev.Wait(t); err != nil {
					return err
				}
				if err := sem.Acquire(t); err != nil {
					return err
				}
				defer sem.Release()
				active++
				maxActive = max(maxActive, active)
				err := aio.Sleep(t, time.Millisecond)
				active--
				return err
			})
		}
		aio.Sleep(t, time.Millisecond)
		if maxActive != 0 {
			return 0, errors.New("workers ran before the event was set")
		}
		ev.Set()
		return 0, g.Wait(t)
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if maxActive != 2 {
		t.Fatalf("at most %d ran at once, want 2", maxActive)
	}
}

func TestExecutor(t *testing.T) {
	got, err := aio.Run(func(t *aio.Task) (int, error) {
		futs := make([]*aio.Future[int], 8)
		for i := range futs {
			futs[i] = aio.Submit(t, func() (int, error) {
				time.Sleep(time.Millisecond) // a blocking call, off the loop
				return i * i, nil
			})
		}
		sum := 0
		for _, f := range futs {
			v, err := aio.Await(t, f)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		_, err := aio.Blocking(t, func() (int, error) { panic("job") })
		if err == nil {
			return 0, errors.New("a panicking job returned no error")
		}
		return sum, nil
	})
	if err != nil || got != 140 {
		t.Fatalf("got %d, %v; want 140", got, err)
	}
}

// TestGroupOnFailureWakesAParentNotInWait: a parent that waits on its own
// event before Wait learns of a child's failure through OnFailure, once,
// with the error; a cancelled child is no failure.
func TestGroupOnFailureWakesAParentNotInWait(t *testing.T) {
	boom := errors.New("boom")
	var got []error
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		g := aio.NewGroup(t)
		stop := aio.NewEvent()
		g.OnFailure(func(err error) { got = append(got, err); stop.Set() })
		cancelled := aio.NewEvent()
		g.Go("cancelled", func(t *aio.Task) error {
			defer cancelled.Set()
			return aio.ErrCanceled
		})
		g.Go("failing", func(t *aio.Task) error {
			if err := cancelled.Wait(t); err != nil {
				return err
			}
			return boom
		})
		g.Go("second", func(t *aio.Task) error {
			if err := aio.Sleep(t, time.Hour); err != nil {
				return err
			}
			return errors.New("second failure")
		})
		if err := stop.Wait(t); err != nil {
			return 0, err
		}
		return 0, g.Wait(t)
	}, aio.WithVirtualTime())
	if !errors.Is(err, boom) {
		t.Fatalf("Wait: got %v, want boom", err)
	}
	if len(got) != 1 || !errors.Is(got[0], boom) {
		t.Fatalf("OnFailure got %v, want [boom]", got)
	}
}
