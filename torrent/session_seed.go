package torrent

import (
	"errors"
	"fmt"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// untilComplete ends the session's group when the download completes,
// or, when seeding, when a seeding goal is reached (or never, without
// one: the session then runs until cancelled).
func (s *Session) untilComplete(t *aio.Task) error {
	if err := s.complete.Wait(t); err != nil {
		return err
	}
	if s.wanted == nil {
		// No piece write touches an empty file; on the executor, as every
		// file system call.
		if _, err := aio.Blocking(t, func() (struct{}, error) { return struct{}{}, s.storage.CreateEmptyFiles() }); err != nil {
			return fmt.Errorf("create empty files: %w", err)
		}
	}
	if !s.opts.Seed {
		return errComplete
	}
	if s.opts.SeedRatio <= 0 && s.opts.SeedTime <= 0 {
		// Seeding until cancelled: nothing to wait for, so no task
		// either (the dialer keeps the group open).
		return nil
	}
	// Seed until a goal is reached: the time is slept to exactly; the
	// ratio is checked where uploads are counted (countUpload), which sets
	// seedDone, so that no timer polls it.
	if s.seedGoalReached() {
		return errComplete
	}
	wait := s.seedDone.Wait
	if s.opts.SeedTime > 0 {
		left := s.finished.Add(s.opts.SeedTime).Sub(s.loop.Now())
		err := aio.Timeout(t, max(left, time.Millisecond), wait)
		if err != nil && !errors.Is(err, aio.ErrTimeout) {
			return err
		}
		return errComplete
	}
	if err := wait(t); err != nil {
		return err
	}
	return errComplete
}

// countUpload counts n payload bytes sent, and says when that reaches the
// seed ratio.
func (s *Session) countUpload(n int) {
	s.uploaded += int64(n)
	if s.opts.SeedRatio > 0 && !s.seedDone.IsSet() && s.seedGoalReached() {
		s.seedDone.Set()
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
