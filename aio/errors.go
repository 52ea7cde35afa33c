package aio

import (
	"errors"
	"fmt"
)

var (
	// ErrCanceled is what an await returns in a task that was cancelled:
	// the wait in progress and every later one, until the task returns
	// (outside a Shield). The task should clean up (defer) and return.
	ErrCanceled = errors.New("aio: canceled")

	// ErrTimeout is returned when a deadline passes: a Timeout or WaitFor
	// scope (by every wait inside it from then on), a Shield's own
	// deadline, a socket deadline, a dial timeout.
	ErrTimeout = errors.New("aio: timeout")

	// ErrClosed is returned by operations on a closed socket, queue or loop.
	ErrClosed = errors.New("aio: closed")

	// ErrNotInTask is returned when an awaiting call is made with a task
	// handle that is not the running task (from outside the loop, or from
	// another task's handle). Awaiting there could only deadlock.
	ErrNotInTask = errors.New("aio: await outside the task that is running")
)

// PanicError is a task's error when its function panicked. A panic ends
// only that task: the loop and every other task go on.
type PanicError struct {
	Task  string
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("aio: task %q panicked: %v", e.Task, e.Value)
}
