package aio

import (
	"os"
	"os/signal"
)

// OnSignal calls fn on the loop thread each time one of sigs arrives,
// until the returned stop function is called (call it on the loop, or let
// the loop's close do it). Go delivers signals on a channel, so one small
// goroutine here waits on it and posts to the loop: it is, with the
// executor workers, the only goroutine aio starts. stop joins it, so once
// stop (or the loop's close) returns, that goroutine is gone and fn is not
// called again.
func OnSignal(l *Loop, fn func(os.Signal), sigs ...os.Signal) (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	exited := make(chan struct{})
	stopped := false // touched on the loop thread only
	signal.Notify(ch, sigs...)
	go func() {
		defer close(exited)
		for {
			select {
			case s := <-ch:
				// A signal posted just before stop is dropped on the loop.
				if l.Post(func() {
					if !stopped {
						fn(s)
					}
				}) != nil {
					return
				}
			case <-done:
				return
			}
		}
	}()
	stop = func() {
		if !stopped {
			stopped = true
			signal.Stop(ch)
			close(done)
			<-exited
		}
	}
	l.onClose = append(l.onClose, stop)
	return stop
}
