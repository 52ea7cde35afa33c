package aio

import "golang.org/x/sys/unix"

// threadID is the calling OS thread's id.
func threadID() (int, bool) { return unix.Gettid(), true }
