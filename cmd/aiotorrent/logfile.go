package main

import (
	"fmt"
	"os"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// logFile is --log-file: the -v stream, each line with its time. Lines
// are gathered on the loop thread and written by an executor thread
// (run), since the loop thread makes no file system calls.
type logFile struct {
	file    *os.File
	pending []byte
	wake    *aio.Event // set when pending has lines
	err     error      // the first write that failed
}

// openLogFile opens (appending to) path, before the loop starts, so that
// a path that cannot be written fails at once.
func openLogFile(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--log-file: %w", err)
	}
	return &logFile{file: f, wake: aio.NewEvent()}, nil
}

func (l *logFile) printf(format string, args ...any) {
	l.pending = time.Now().UTC().AppendFormat(l.pending, "2006-01-02T15:04:05.000Z ")
	l.pending = fmt.Appendf(l.pending, format, args...)
	l.pending = append(l.pending, '\n')
	l.wake.Set()
}

// run writes what is pending until t is cancelled.
func (l *logFile) run(t *aio.Task) error {
	for {
		if err := l.wake.Wait(t); err != nil {
			return err
		}
		l.wake.Clear()
		if err := l.flush(t); err != nil {
			return err
		}
	}
}

func (l *logFile) flush(t *aio.Task) error {
	buf := l.pending
	l.pending = nil
	if len(buf) == 0 || l.err != nil {
		return nil
	}
	_, err := aio.Blocking(t, func() (int, error) { return l.file.Write(buf) })
	if err != nil && l.err == nil {
		l.err = fmt.Errorf("--log-file: %w", err)
	}
	return nil
}

// close writes the rest and closes the file; the caller shields it (it
// runs as the command ends, often cancelled).
func (l *logFile) close(t *aio.Task) error {
	l.flush(t)
	_, err := aio.Blocking(t, func() (struct{}, error) { return struct{}{}, l.file.Close() })
	if l.err != nil {
		return l.err
	}
	if err != nil {
		return fmt.Errorf("--log-file: %w", err)
	}
	return nil
}
