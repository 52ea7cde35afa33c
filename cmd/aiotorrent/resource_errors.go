package main

import (
	"fmt"
	"regexp"
)

// pieceNumber is left out when comparing errors: a full disk or a file
// that cannot be created fails every piece in turn, each with its own
// number, and was printed once per piece (330 lines in 12 s).
var pieceNumber = regexp.MustCompile(`\bpiece \d+`)

// resourceErrors returns what prints a torrent's resource error (too many
// open files, a file missing or unreadable, a full disk: Progress.Err) as
// it changes, and a line when it clears. The session waits and tries
// again on its own (torrent/session_resource.go); the other torrents go
// on, so the process does not end. The lines go to stderr even with
// --quiet: they say why a torrent stands still.
func resourceErrors(warn func(string), name string) func(error) {
	last := ""
	return func(err error) {
		now := ""
		if err != nil {
			now = err.Error()
		}
		switch {
		case pieceNumber.ReplaceAllString(now, "piece N") == pieceNumber.ReplaceAllString(last, "piece N"):
			return // last stays the error as it was printed
		case now == "":
			warn(fmt.Sprintf("%s: resumed after: %s\n", name, last))
		default:
			warn(fmt.Sprintf("%s: %s (will retry)\n", name, now))
		}
		last = now
	}
}
