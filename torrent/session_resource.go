package torrent

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/piece"
)

// Resource errors: the disk or the process, not the torrent, is at fault.
//
// Too many open files, a file removed or made unreadable under us, a full
// disk or quota: each is this torrent's error, never the process's. It is
// shown (Progress.Err, which the CLI prints), and what failed is tried
// again after a back-off of 5 s doubling to 5 min, while the other
// torrents of the client go on. Before, the error ended the session, and
// the CLI's task group then stopped every other torrent: with 1,100
// torrents under a 1,024 descriptor limit, one EMFILE at start-up ended
// the 984 already seeding.
//
// What waits is what failed:
//   - opening the storage and checking the data (Run): the session takes
//     no peers until the check goes through;
//   - writing a verified piece: its buffer is kept and written again, so
//     a full disk stalls the download once the buffers are all waiting,
//     and it resumes where it was when space is freed;
//   - reading for upload: requests are refused (REJECT to fast peers)
//     until the back-off has passed, then a read is tried again; the
//     peers stay connected, since the fault is ours.
//
// A single torrent in the CLI therefore waits on a full disk too, showing
// why, rather than exiting 1: no test or caller relied on the exit, and a
// user who frees space should not have to start again.

const (
	resourceRetryFirst = 5 * time.Second
	resourceRetryMax   = 5 * time.Minute
)

// openStorage opens the storage, in the client's file cache, and checks
// what is on disk (resume). It may run again after a resource error.
func (s *Session) openStorage(t *aio.Task) error {
	if s.storage == nil {
		storage, err := aio.Blocking(t, func() (*piece.Storage, error) {
			return piece.OpenStorage(s.opts.Dir, s.meta.Layout(), piece.StorageOptions{Files: s.client.files})
		})
		if err != nil {
			return fmt.Errorf("open storage: %w", err)
		}
		s.storage = storage
	}
	return s.resume(t)
}

// resourceState is the session's last resource error and its back-off.
type resourceState struct {
	err   error // shown as Progress.Err; nil when all is well
	tries int   // failures in a row, for the back-off
	// readsUntil is when uploads may read again after a read failed
	// (loop time); a write that fails does not stop reads.
	readsUntil time.Time
	first      time.Duration // the first back-off; 0: resourceRetryFirst (tests shorten it)
}

// isResourceError reports whether err comes from the disk or the process
// rather than from the torrent or its data.
func isResourceError(err error) bool {
	for _, e := range []error{
		syscall.EMFILE, syscall.ENFILE, syscall.ENOSPC, syscall.EDQUOT,
		syscall.EACCES, syscall.EPERM, syscall.EIO, syscall.EROFS,
		fs.ErrNotExist, piece.ErrMissing,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// backoff is the wait after the tries-th failure in a row.
func (r *resourceState) backoff() time.Duration {
	d := r.first
	if d <= 0 {
		d = resourceRetryFirst
	}
	for range min(r.tries, 20) {
		d *= 2
	}
	return min(d, max(resourceRetryMax, r.first))
}

// resourceFailed records err as the session's error and returns how long
// to wait before trying again.
func (s *Session) resourceFailed(err error) time.Duration {
	d := s.res.backoff()
	s.res.err, s.res.tries = err, s.res.tries+1
	s.client.cfg.Logf("%s: %v; trying again in %v", s.meta.Name, err, d)
	s.report()
	return d
}

// resourceOK clears the error after something that had failed went
// through.
func (s *Session) resourceOK() {
	if s.res.err == nil {
		return
	}
	s.res = resourceState{first: s.res.first}
	s.client.cfg.Logf("%s: disk error cleared", s.meta.Name)
	s.report()
}

// retryResource runs op until it succeeds or fails with an error that is
// not a resource error, waiting the back-off after each resource error.
func (s *Session) retryResource(t *aio.Task, what string, op func(t *aio.Task) error) error {
	return s.retryAfter(t, what, op(t), op)
}

// retryAfter is retryResource when op has already run once and returned
// err.
func (s *Session) retryAfter(t *aio.Task, what string, err error, op func(t *aio.Task) error) error {
	for {
		if err == nil {
			s.resourceOK()
			return nil
		}
		if !isResourceError(err) {
			return err
		}
		if err := aio.Sleep(t, s.resourceFailed(fmt.Errorf("%s: %w", what, err))); err != nil {
			return err
		}
		err = op(t)
	}
}

// readFailed records a resource error of a read for upload: reads pause
// for the back-off.
func (s *Session) readFailed(err error) {
	s.res.readsUntil = s.loop.Now().Add(s.resourceFailed(err))
}

// readsPaused reports whether uploads wait for the back-off of a read
// that failed.
func (s *Session) readsPaused() bool {
	return s.res.err != nil && s.loop.Now().Before(s.res.readsUntil)
}
