package aio

// Queue is a bounded FIFO between tasks on one loop, like asyncio.Queue:
// Put parks while it is full, Get parks while it is empty, and the Try
// methods never park. After Close, Put fails with ErrClosed and Get drains
// what is left, then fails with ErrClosed.
//
// A woken getter is not handed an item: it is woken to look again. Since
// only the loop thread touches the queue, nobody can take the item in
// between except a task that runs first, and then the getter parks again.
// A cancelled waiter simply leaves the list; there is no wakeup to lose.
type Queue[T any] struct {
	items            []T // ring buffer
	head, n          int
	closed           bool
	getters, putters waitList
}

// NewQueue returns a queue holding at most capacity items (at least 1).
func NewQueue[T any](capacity int) *Queue[T] {
	return &Queue[T]{items: make([]T, max(1, capacity))}
}

// Len is the number of items in the queue.
func (q *Queue[T]) Len() int { return q.n }

// Cap is the queue's capacity.
func (q *Queue[T]) Cap() int { return len(q.items) }

// TryPut adds v if there is room and reports whether it did.
func (q *Queue[T]) TryPut(v T) bool {
	if q.closed || q.n == len(q.items) {
		return false
	}
	q.items[(q.head+q.n)%len(q.items)] = v
	q.n++
	q.getters.wakeOne(nil)
	return true
}

// TryGet takes the oldest item if there is one.
func (q *Queue[T]) TryGet() (T, bool) {
	var zero T
	if q.n == 0 {
		return zero, false
	}
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head = (q.head + 1) % len(q.items)
	q.n--
	q.putters.wakeOne(nil)
	return v, true
}

// Put adds v, parking t while the queue is full.
func (q *Queue[T]) Put(t *Task, v T) error {
	for {
		if q.closed {
			return ErrClosed
		}
		if q.TryPut(v) {
			return nil
		}
		if err := q.putters.wait(t, "queue put"); err != nil {
			return err
		}
	}
}

// Get takes the oldest item, parking t while the queue is empty.
func (q *Queue[T]) Get(t *Task) (T, error) {
	for {
		if v, ok := q.TryGet(); ok {
			return v, nil
		}
		if q.closed {
			var zero T
			return zero, ErrClosed
		}
		if err := q.getters.wait(t, "queue get"); err != nil {
			var zero T
			return zero, err
		}
	}
}

// Close closes the queue and wakes every waiter.
func (q *Queue[T]) Close() {
	q.closed = true
	q.getters.wakeAll(nil)
	q.putters.wakeAll(nil)
}

// waitList is a FIFO of parked tasks, the building block of Queue, Event
// and Semaphore.
type waitList struct{ ws []waiter }

// wait parks t at the back of the list until woken or cancelled.
func (l *waitList) wait(t *Task, what string) error {
	w := t.waiter()
	l.ws = append(l.ws, w)
	t.setWait(what, 0)
	return t.park(func() { l.remove(w) })
}

func (l *waitList) remove(w waiter) {
	for i, x := range l.ws {
		if x == w {
			l.ws = append(l.ws[:i], l.ws[i+1:]...)
			return
		}
	}
}

// wakeOne wakes the longest waiting task, if any.
func (l *waitList) wakeOne(err error) bool {
	for len(l.ws) > 0 {
		w := l.ws[0]
		l.ws[0] = waiter{}
		l.ws = l.ws[1:]
		if w.wake(err) {
			return true
		}
	}
	return false
}

func (l *waitList) wakeAll(err error) {
	for l.wakeOne(err) {
	}
}

func (l *waitList) len() int { return len(l.ws) }
