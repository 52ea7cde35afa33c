package aio

// Event is a flag tasks can wait for, like asyncio.Event: Wait parks until
// Set is called; once set, Wait returns at once until Clear.
type Event struct {
	set     bool
	waiters waitList
}

// NewEvent returns an unset event.
func NewEvent() *Event { return &Event{} }

// Set sets the flag and wakes every waiting task.
func (e *Event) Set() {
	e.set = true
	e.waiters.wakeAll(nil)
}

// Clear unsets the flag.
func (e *Event) Clear() { e.set = false }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool { return e.set }

// Wait parks t until the flag is set.
func (e *Event) Wait(t *Task) error {
	for !e.set {
		if err := e.waiters.wait(t, "event"); err != nil {
			return err
		}
	}
	return nil
}

// Semaphore limits how many tasks do something at once (for example, how
// many peers are being dialled). Waiters are served in FIFO order.
type Semaphore struct {
	free    int
	waiters waitList
}

// NewSemaphore returns a semaphore with n permits.
func NewSemaphore(n int) *Semaphore { return &Semaphore{free: n} }

// TryAcquire takes a permit if one is free and nobody is queued for it.
func (s *Semaphore) TryAcquire() bool {
	if s.free > 0 && s.waiters.len() == 0 {
		s.free--
		return true
	}
	return false
}

// Acquire takes a permit, parking t until one is free.
func (s *Semaphore) Acquire(t *Task) error {
	if s.TryAcquire() {
		return nil
	}
	// Release hands its permit straight to the task it wakes (free is not
	// incremented), so a woken waiter owns a permit even if it is
	// cancelled before it runs.
	return s.waiters.wait(t, "semaphore")
}

// Release returns a permit, handing it straight to the longest waiter.
func (s *Semaphore) Release() {
	if !s.waiters.wakeOne(nil) {
		s.free++
	}
}

// Free is the number of permits available.
func (s *Semaphore) Free() int { return s.free }
