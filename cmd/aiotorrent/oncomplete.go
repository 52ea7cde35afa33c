package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/torrent"
)

// onCompleteRule is --on-complete's rule, for download's help.
const onCompleteRule = `--on-complete CMD runs CMD (like aria2c's --on-download-complete) once
for each torrent that is complete, also when its data was complete on disk
already: /bin/sh runs "CMD PATH", PATH being the torrent's file or folder
in the download directory, so CMD may be a script or a command with
arguments. Its output is printed when it ends; a failure is reported and
changes nothing else.`

// maxHookOutput bounds what is kept of an --on-complete command's output.
const maxHookOutput = 64 << 10

// onCompleteHook returns what to call with each progress report of the
// torrent m: it starts cmdline in g once, at the first report that says
// complete. Nothing is returned when cmdline is empty.
func onCompleteHook(g *aio.Group, warn func(string), cmdline, dir string, m *metainfo.Torrent) func(torrent.Progress) {
	if cmdline == "" {
		return func(torrent.Progress) {}
	}
	ran := false
	return func(p torrent.Progress) {
		if ran || !p.Complete {
			return
		}
		ran = true
		path := filepath.Join(dir, m.Name)
		// The group waits for the command, so the process does not exit
		// under it; a failure is printed, not returned, so that it stops
		// no other torrent.
		_ = g.Go("on-complete "+m.Name, func(t *aio.Task) error {
			out, err := aio.Blocking(t, func() ([]byte, error) { return runHook(cmdline, path) })
			if errors.Is(err, aio.ErrCanceled) {
				// Ctrl-C while it runs: the command goes on by itself,
				// as it would started from a shell; nothing failed.
				return err
			}
			if len(out) > 0 {
				warn(string(out))
			}
			if err != nil {
				warn(fmt.Sprintf("--on-complete %q %s: %v\n", cmdline, path, err))
			}
			return nil
		})
	}
}

// runHook runs on an executor thread: the fork, the exec and the wait
// block, and the command may take as long as it likes.
func runHook(cmdline, path string) ([]byte, error) {
	// "$@" after the command appends the path as one argument, however
	// many spaces or quotes it holds.
	c := exec.Command("/bin/sh", "-c", cmdline+` "$@"`, "aiotorrent", path)
	var out bytes.Buffer
	c.Stdout = &capped{&out}
	c.Stderr = c.Stdout
	err := c.Run()
	return out.Bytes(), err
}

// capped keeps the first maxHookOutput bytes written to it and drops the
// rest (a command that prints without end must not fill the memory).
type capped struct{ b *bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := maxHookOutput - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
