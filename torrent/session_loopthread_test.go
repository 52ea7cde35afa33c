//go:build linux

package torrent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/piece"
)

// loopThreadReports runs work on a loop in debug mode (--debug) and
// returns what the debug log said about blocking calls on the loop thread.
func loopThreadReports(t *testing.T, work func(at *aio.Task) error) []string {
	t.Helper()
	var reports []string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		return struct{}{}, work(at)
	}, aio.WithDebug(func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		t.Log(line)
		if strings.Contains(line, "on the loop thread: blocking work") {
			reports = append(reports, line) // on the loop thread: no lock
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	return reports
}

// TestDownloadMakesNoFileSystemCallOnTheLoopThread: seeders checking their
// data and serving it, a leecher opening its storage, verifying, writing,
// cutting files longer than the torrent says, creating the empty file and
// closing: all of it on the executor.
func TestDownloadMakesNoFileSystemCallOnTheLoopThread(t *testing.T) {
	dst := t.TempDir()
	var leech *Session
	reports := loopThreadReports(t, func(at *aio.Task) error {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return err
		}
		placeLongerFiles(t, sw.src, dst) // cutting them is file system work too
		for i := range 2 {
			if _, _, err := sw.node(at, fmt.Sprintf("seeder%d", i), sw.src, true, nil); err != nil {
				return err
			}
		}
		s, h, err := sw.node(at, "leecher", dst, false, nil)
		if err != nil {
			return err
		}
		leech = s
		_, err = aio.AwaitTimeout(at, h, 60*time.Second)
		return err
	})
	if p := leech.Progress(); !p.Complete {
		t.Fatalf("progress %+v, want complete: the test proves nothing", p)
	}
	if len(reports) != 0 {
		t.Errorf("%d file system calls on the loop thread:\n%s", len(reports), strings.Join(reports, "\n"))
	}
}

func TestDebugReportsAFileSystemCallOnTheLoopThread(t *testing.T) {
	layout := piece.Layout{PieceLength: 16 << 10, Length: 5, Files: []piece.FileEntry{{Path: "x", Length: 5}}}
	reports := loopThreadReports(t, func(at *aio.Task) error {
		s, err := piece.OpenStorage(t.TempDir(), layout, piece.StorageOptions{}) // deliberately
		if err != nil {
			return err
		}
		_, err = aio.Blocking(at, func() (struct{}, error) { return struct{}{}, s.Close() })
		return err
	})
	if len(reports) != 1 || !strings.Contains(reports[0], "OpenStorage") {
		t.Errorf("reports %q, want one, of OpenStorage", reports)
	}
}
