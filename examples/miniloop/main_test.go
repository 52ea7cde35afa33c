//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// run runs main on a new loop and fails the test if the loop has not
// finished within 5 s, instead of hanging. The loop is returned so its
// state after Run can be checked.
func run(t *testing.T, main func(t *Task) error) (*Loop, error) {
	t.Helper()
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Run(main) }()
	select {
	case err := <-done:
		return l, err
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not finish within 5 s")
		return nil, nil
	}
}

func TestEchoConcurrentClients(t *testing.T) {
	const clients = 8
	want := make([][][]byte, clients)
	got := make([][][]byte, clients)
	for i := range clients {
		// The last message is bigger than one read (4 KiB), so it comes
		// back in pieces; it is small enough for the socket buffers to
		// hold while the client is still writing it.
		big := bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
		want[i] = [][]byte{[]byte(fmt.Sprintf("client %d: one", i)), []byte(fmt.Sprintf("client %d: two", i)), big}
	}
	l, err := run(t, func(t *Task) error {
		ln, port, err := t.loop.Listen()
		if err != nil {
			return err
		}
		t.loop.Spawn(func(t *Task) error { return server(t, ln) })
		var tasks []*Task
		for i := range clients {
			tasks = append(tasks, t.loop.Spawn(func(t *Task) error {
				return client(t, port, want[i], time.Millisecond, func(b []byte) { got[i] = append(got[i], b) })
			}))
		}
		for _, c := range tasks {
			if err := t.Join(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range clients {
		if !slices.EqualFunc(got[i], want[i], bytes.Equal) {
			t.Errorf("client %d: got %d echoes %q, want %q", i, len(got[i]), abbrev(got[i]), abbrev(want[i]))
		}
	}
	// The server was still parked in accept when main returned: Run
	// cancelled it, and every socket was closed by the task that owned it.
	if len(l.tasks) != 0 || len(l.fds) != 0 {
		t.Errorf("after Run: %d tasks alive, %d fds registered; want none", len(l.tasks), len(l.fds))
	}
}

func abbrev(msgs [][]byte) []string {
	var s []string
	for _, m := range msgs {
		s = append(s, fmt.Sprintf("%.20s…(%d bytes)", m, len(m)))
	}
	return s
}

// A writer that fills the socket buffer gets EAGAIN and parks until the
// reader has drained some; every byte arrives, in order.
func TestWriteParksUntilReaderDrains(t *testing.T) {
	want := make([]byte, 1<<20) // far more than a socketpair buffers
	for i := range want {
		want[i] = byte(i * 7 / 5)
	}
	var got []byte
	_, err := run(t, func(t *Task) error {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		w, err := t.loop.register(fds[0])
		if err != nil {
			return err
		}
		r, err := t.loop.register(fds[1])
		if err != nil {
			return err
		}
		writer := t.loop.Spawn(func(t *Task) error {
			defer w.Close() // the reader sees EOF
			return w.WriteAll(t, want)
		})
		defer r.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(t, buf)
			if err != nil {
				if err := t.Join(writer); err != nil {
					return err
				}
				return err // io.EOF is the end we want
			}
			got = append(got, buf[:n]...)
		}
	})
	if !errors.Is(err, io.EOF) {
		t.Fatalf("reader ended with %v, want EOF", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want %d, equal prefix %d", len(got), len(want), commonPrefix(got, want))
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func TestDialRefused(t *testing.T) {
	_, err := run(t, func(t *Task) error {
		ln, port, err := t.loop.Listen()
		if err != nil {
			return err
		}
		ln.Close() // nobody listens on port now
		c, err := t.loop.Dial(t, port)
		if err == nil {
			c.Close()
		}
		return err
	})
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("dial to a closed port: %v, want ECONNREFUSED (from SO_ERROR)", err)
	}
}

// Sleepers wake in deadline order, never before their time; tasks first
// run in the order they were spawned.
func TestSleepWakesAfterTimer(t *testing.T) {
	var log []string
	sleeps := []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}
	_, err := run(t, func(t *Task) error {
		var tasks []*Task
		for i, d := range sleeps {
			tasks = append(tasks, t.loop.Spawn(func(t *Task) error {
				log = append(log, fmt.Sprint("start ", i))
				start := time.Now()
				if err := t.Sleep(d); err != nil {
					return err
				}
				if slept := time.Since(start); slept < d {
					return fmt.Errorf("sleeper %d woke after %v, before its %v", i, slept, d)
				}
				log = append(log, fmt.Sprint("woke ", i))
				return nil
			}))
		}
		for _, s := range tasks {
			if err := t.Join(s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"start 0", "start 1", "start 2", "woke 1", "woke 2", "woke 0"}
	if !slices.Equal(log, want) {
		t.Fatalf("got %q, want %q", log, want)
	}
}

// Tasks woken in one step run in the order they were woken: the ready
// queue is a FIFO.
func TestReadyQueueIsFIFO(t *testing.T) {
	var log []int
	order := []int{3, 1, 4, 0, 2}
	_, err := run(t, func(t *Task) error {
		var tasks []*Task
		for i := range len(order) {
			tasks = append(tasks, t.loop.Spawn(func(t *Task) error {
				t.Sleep(time.Hour) // ended by Cancel below
				log = append(log, i)
				return nil
			}))
		}
		// Sleep(0) is due at once: main is woken in the next step and
		// runs after the sleepers, which by then are parked.
		if err := t.Sleep(0); err != nil {
			return err
		}
		for _, i := range order {
			tasks[i].Cancel()
		}
		for _, s := range tasks {
			if err := t.Join(s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(log, order) {
		t.Fatalf("ran in order %v, want the wake order %v", log, order)
	}
}

// Cancellation is sticky: after Cancel, every park of the task fails,
// not just the one it was in, so cleanup that would block cannot hang.
func TestCancelIsSticky(t *testing.T) {
	var errs []error
	_, err := run(t, func(t *Task) error {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fds[1])
		quiet, err := t.loop.register(fds[0]) // nobody ever writes to it
		if err != nil {
			return err
		}
		defer quiet.Close()
		other := t.loop.Spawn(func(t *Task) error { return t.Sleep(time.Hour) })
		victim := t.loop.Spawn(func(t *Task) error {
			errs = append(errs, t.Sleep(time.Hour)) // parked here when cancelled
			errs = append(errs, t.Sleep(time.Hour))
			_, err := quiet.Read(t, make([]byte, 1))
			errs = append(errs, err)
			errs = append(errs, t.Join(other))
			return nil
		})
		if err := t.Sleep(0); err != nil { // let victim park
			return err
		}
		victim.Cancel()
		victim.Cancel() // twice changes nothing
		if err := t.Join(victim); err != nil {
			return err
		}
		// Cancelled before it ever ran: its first park fails.
		early := t.loop.Spawn(func(t *Task) error { return t.Sleep(time.Hour) })
		early.Cancel()
		if err := t.Join(early); !errors.Is(err, errCanceled) {
			return fmt.Errorf("task cancelled before its first step: %v, want %v", err, errCanceled)
		}
		other.Cancel()
		// An hour-long sleeper ends as soon as it is cancelled; if it did
		// not, run's 5-s bound would fail the test.
		if err := t.Join(other); !errors.Is(err, errCanceled) {
			return fmt.Errorf("cancelled sleeper: %v, want %v", err, errCanceled)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 4 {
		t.Fatalf("victim made %d parks, want 4", len(errs))
	}
	for i, err := range errs {
		if !errors.Is(err, errCanceled) {
			t.Errorf("park %d after Cancel: %v, want %v", i, err, errCanceled)
		}
	}
}
