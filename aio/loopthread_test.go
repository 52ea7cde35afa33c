//go:build linux

package aio

import (
	"fmt"
	"strings"
	"testing"
)

func TestOnLoopThread(t *testing.T) {
	if OnLoopThread() {
		t.Fatal("OnLoopThread() = true on the test goroutine, with no loop running")
	}
	type where struct{ task, job, timer bool }
	got, err := Run(func(t *Task) (where, error) {
		var w where
		w.task = OnLoopThread()
		w.job, _ = Blocking(t, func() (bool, error) { return OnLoopThread(), nil })
		fired := NewEvent()
		t.Loop().AfterFunc(0, func() { w.timer = OnLoopThread(); fired.Set() })
		return w, fired.Wait(t)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (where{task: true, job: false, timer: true}); got != want {
		t.Errorf("OnLoopThread in task, executor job, timer = %+v, want %+v", got, want)
	}
	if OnLoopThread() {
		t.Error("OnLoopThread() = true after the loop ended")
	}
}

func TestCheckBlockingReportsTheLoopThreadOnly(t *testing.T) {
	var logged []string
	_, err := Run(func(t *Task) (struct{}, error) {
		CheckBlocking("open on the loop")
		_, err := Blocking(t, func() (struct{}, error) {
			CheckBlocking("open on the executor")
			return struct{}{}, nil
		})
		return struct{}{}, err
	}, WithDebug(func(format string, args ...any) {
		logged = append(logged, fmt.Sprintf(format, args...)) // on the loop thread
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "open on the loop") {
		t.Errorf("debug log %q, want one report, of the call on the loop", logged)
	}
}
