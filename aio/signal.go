package aio

import (
	"os"
	"os/signal"
)

// OnSignal calls fn on the loop thread each time one of sigs arrives,
// until the returned stop function is called (call it on the loop, or let
// the loop's close do it). Go delivers signals on a channel, so one small
// goroutine here waits on it and posts to the loop: it is, with the
// executor workers, the only goroutine aio starts.
func OnSignal(l *Loop, fn func(os.Signal), sigs ...os.Signal) (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, sigs...)
	go func() {
		for {
			select {
			case s := <-ch:
				if l.Post(func() { fn(s) }) != nil {
					return
				}
			case <-done:
				return
			}
		}
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			signal.Stop(ch)
			close(done)
		}
	}
	l.onClose = append(l.onClose, stop)
	return stop
}
