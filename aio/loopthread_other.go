//go:build !linux

package aio

// threadID has no portable equivalent of gettid(2) to call (pthread_self
// would need cgo), so loop threads are not recorded here.
func threadID() (int, bool) { return 0, false }
