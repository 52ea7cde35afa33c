package aio

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// WithDebug turns on the runtime's checks for the classic async bugs, and
// reports them through logf:
//
//   - a task step that runs longer than 50 ms without suspending: a
//     blocking call on the loop thread stalls every other task;
//   - blocking code that declares itself with CheckBlocking (file system
//     calls in piece.Storage) called on the loop thread, however quick it
//     was this time (Linux only: see OnLoopThread);
//   - a spawned task that failed and whose error nobody awaited;
//   - tasks still pending when the loop closes (after being cancelled
//     and given their grace period).
func WithDebug(logf func(format string, args ...any)) Option {
	return func(o *options) { o.debug = logf }
}

// slowStep is the step length debug mode warns about.
const slowStep = 50 * time.Millisecond

// observed reports whether steps must be timed (tracing or debug).
func (l *Loop) observed() bool { return l.opts.tracer != nil || l.opts.debug != nil }

// afterStep records one task step for the tracer and the debug checks.
func (l *Loop) afterStep(t *Task, start time.Time) {
	end := time.Now()
	if tr := l.opts.tracer; tr != nil {
		tr.slice(t.name, loopTid, start, end)
		tr.loopCounters(l, end)
	}
	if d := end.Sub(start); l.opts.debug != nil && d > slowStep {
		l.opts.debug("aio: task %q ran %v without suspending: a blocking call on the loop thread?", t.name, d.Round(time.Millisecond))
	}
}

// unretrieved is a failed task whose error nobody has awaited yet.
type unretrieved struct {
	name      string
	err       error
	retrieved *bool
}

// noteFailure remembers a failed spawned task in debug mode, to report at
// close if its error is never awaited.
func (l *Loop) noteFailure(name string, err error, retrieved *bool) {
	if l.opts.debug == nil || err == nil || errors.Is(err, ErrCanceled) {
		return
	}
	l.failures = append(l.failures, unretrieved{name, err, retrieved})
}

// debugAtClose reports, in debug mode, what shutdown found.
func (l *Loop) debugAtClose() {
	logf := l.opts.debug
	if logf == nil {
		return
	}
	for _, f := range l.failures {
		if !*f.retrieved {
			logf("aio: task %q failed and its error was never awaited: %v", f.name, f.err)
		}
	}
}

// setWait records what a parking task waits for, for DumpTasks.
func (t *Task) setWait(kind string, arg int64) {
	t.waitKind, t.waitArg = kind, arg
}

func (t *Task) waitingOn() string {
	switch t.state {
	case taskReady:
		return "ready"
	case taskRunning:
		return "running"
	case taskDone:
		return "done"
	}
	switch t.waitKind {
	case "read", "write":
		return fmt.Sprintf("waiting to %s fd %d", t.waitKind, t.waitArg)
	case "sleep":
		return fmt.Sprintf("sleeping until +%v", time.Duration(t.waitArg).Round(time.Millisecond))
	case "":
		return "waiting"
	}
	return "waiting on " + t.waitKind
}

// DumpTasks writes one line per live task: its name and what it waits
// for, like asyncio's task dump. Call it on the loop thread (the CLI
// binds it to SIGUSR1 with OnSignal).
func (l *Loop) DumpTasks(w io.Writer) {
	fmt.Fprintf(w, "aio: %d live tasks, %d ready, %d timers, %d fds, %d executor jobs\n",
		l.live, len(l.ready), len(l.timers), l.openFDs, l.inflight)
	for t := l.tasks; t != nil; t = t.next {
		fmt.Fprintf(w, "  %-40q %s\n", t.name, t.waitingOn())
	}
}

// Print writes the loop's counters in a few lines (--stats).
func (s Stats) Print(w io.Writer) {
	fmt.Fprintf(w, "loop: %d steps, %d task switches, %d polls (%v blocked in the poller), %d timers fired\n",
		s.Steps, s.Switches, s.Polls, s.PollWait.Round(time.Millisecond), s.Timers)
	fmt.Fprintf(w, "executor: %d jobs, %v busy, %d results posted back\n",
		s.ExecJobs, s.ExecBusy.Round(time.Millisecond), s.Posted)
	fmt.Fprintf(w, "tasks: %d spawned\n", s.Spawned)
}
