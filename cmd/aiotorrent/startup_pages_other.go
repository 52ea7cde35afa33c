//go:build !linux

package main

// releaseStartupPages does nothing here: see the Linux version.
func releaseStartupPages() {}
