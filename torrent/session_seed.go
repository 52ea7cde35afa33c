package torrent

import (
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
		if err := s.retryResource(t, "create empty files", func(t *aio.Task) error {
			_, err := aio.Blocking(t, func() (struct{}, error) { return struct{}{}, s.storage.CreateEmptyFiles() })
			return err
		}); err != nil {
			return fmt.Errorf("create empty files: %w", err)
		}
	}
	if !s.opts.Seed {
		return errComplete
	}
	if s.opts.SeedRatio <= 0 && s.opts.SeedTime <= 0 {
		return aio.NewEvent().Wait(t) // until cancelled
	}
	// Seed until a goal is reached. The ratio is checked every second;
	// the time is slept to exactly.
	for !s.seedGoalReached() {
		wait := time.Second
		if s.opts.SeedTime > 0 {
			wait = min(wait, s.finished.Add(s.opts.SeedTime).Sub(s.loop.Now()))
		}
		if err := aio.Sleep(t, max(wait, time.Millisecond)); err != nil {
			return err
		}
	}
	return errComplete
}

// seedGoalReached reports whether seeding has done what SeedRatio or
// SeedTime asked, whichever comes first.
func (s *Session) seedGoalReached() bool {
	if r := s.opts.SeedRatio; r > 0 && float64(s.uploaded) >= r*float64(s.wantedBytes) {
		return true
	}
	return s.opts.SeedTime > 0 && !s.loop.Now().Before(s.finished.Add(s.opts.SeedTime))
}
