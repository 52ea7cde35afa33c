// Package netpoll asks the operating system which file descriptors are
// ready. It is the bottom layer of aiotorrent's runtime and knows nothing
// about tasks: aio registers sockets here and turns readiness into wakeups.
//
// # The contract
//
// Every backend (epoll on Linux, kqueue on the BSDs and macOS) provides the
// same small type, Poller:
//
//	New() (*Poller, error)
//	Add(fd, interest)      register an fd once
//	Modify(fd, interest)   change what it is watched for
//	Remove(fd)             stop watching (before close)
//	CloseFD(fd)            close an fd never duplicated, which also stops watching it
//	Wait(events, timeout)  block until something is ready, fill events
//	Wake()                 make a Wait in progress return; safe from any thread
//	Close()
//
// # Edge-triggered, registered once, drained until EAGAIN
//
// Registrations are edge-triggered (EPOLLET, kqueue EV_CLEAR), the way Go's
// own runtime uses them: an event says "this fd became ready", not "this fd
// is ready". The consequence for callers is a rule with no exceptions: try
// the syscall first, and only after it returns EAGAIN wait for the next
// event. Readiness is a hint. Events can be spurious (a reader that drained
// the socket before the event was delivered) and an fd number can be closed
// and reused between a Wait and its dispatch, so a caller must treat every
// event as "maybe" and retry the syscall.
//
// Edge triggering lets an fd be registered once for both directions for its
// whole life, so the hot path (read until EAGAIN, wait, read again) never
// makes an epoll_ctl or kevent call.
//
// # Waking
//
// Wake is how other threads (aio's executor workers) interrupt a Wait: an
// eventfd on Linux, EVFILT_USER on macOS, FreeBSD and DragonFly, a pipe on
// NetBSD and OpenBSD. Wait consumes the wakeup itself and does not report it
// as an event; the caller learns of it by Wait returning.
//
// Wake may race Close (a worker finishing a job while the loop shuts
// down). Close waits for Wakes in progress, and a Wake after Close returns
// ErrClosed without touching a descriptor: otherwise it could write into
// whatever file took the closed eventfd's or pipe's number.
//
// EINTR is retried inside Wait with the time that is left.
package netpoll
