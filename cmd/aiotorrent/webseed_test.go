package main

import (
	"slices"
	"testing"
)

func TestDownloadWebSeedFlags(t *testing.T) {
	got, err := parseCmd(NewCmdDownload, "a.torrent", "--web-seed", "http://a/x", "--web-seed", "http://b/", "--no-web-seeds")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://a/x", "http://b/"}; !slices.Equal(got.WebSeeds, want) || !got.NoWebSeeds {
		t.Errorf("got WebSeeds %q, NoWebSeeds %v; want %q, true", got.WebSeeds, got.NoWebSeeds, want)
	}
}
