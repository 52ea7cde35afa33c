package torrent

import (
	"errors"
	"fmt"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// untilDone parks Run's task until the session has nothing left to do:
// the download completed (when not seeding), a seeding goal was reached,
// or a failure (s.fail, a child of the group). Whatever may change that
// sets s.ending; seeding without a goal waits for a cancel, with no timer
// and no task besides Run's.
func (s *Session) untilDone(t *aio.Task) error {
	emptyFiles := false
	for {
		if s.err != nil || s.childFailed {
			return nil // Run reports which
		}
		if s.complete.IsSet() {
			if s.wanted == nil && !emptyFiles {
				// No piece write touches an empty file; on the executor,
				// as every file system call.
				if err := s.retryResource(t, "create empty files", func(t *aio.Task) error {
					_, err := aio.Blocking(t, func() (struct{}, error) { return struct{}{}, s.storage.CreateEmptyFiles() })
					return err
				}); err != nil {
					return fmt.Errorf("create empty files: %w", err)
				}
				emptyFiles = true
			}
			if !s.opts.Seed || s.seedGoalReached() {
				return errComplete
			}
		}
		s.ending.Clear()
		wait := s.ending.Wait
		if s.complete.IsSet() && s.opts.SeedTime > 0 {
			// The time is slept to exactly; the ratio is checked where
			// uploads are counted (countUpload).
			left := s.finished.Add(s.opts.SeedTime).Sub(s.loop.Now())
			wait = func(t *aio.Task) error {
				if err := aio.Timeout(t, max(left, time.Millisecond), s.ending.Wait); !errors.Is(err, aio.ErrTimeout) {
					return err
				}
				return nil
			}
		}
		if err := wait(t); err != nil {
			return err
		}
	}
}

// countUpload counts n payload bytes sent, and says when that reaches the
// seed ratio.
func (s *Session) countUpload(n int) {
	s.uploaded += int64(n)
	if s.opts.SeedRatio > 0 && s.seedGoalReached() {
		s.ending.Set()
	}
}

// seedGoalReached reports whether seeding has done what SeedRatio or
// SeedTime asked, whichever comes first.
func (s *Session) seedGoalReached() bool {
	if r := s.opts.SeedRatio; r > 0 && float64(s.uploaded) >= r*float64(s.wantedBytes) {
		return true
	}
	return s.opts.SeedTime > 0 && !s.loop.Now().Before(s.finished.Add(s.opts.SeedTime))
}
