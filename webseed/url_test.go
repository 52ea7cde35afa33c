package webseed

import (
	"slices"
	"testing"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

func TestFilesMapping(t *testing.T) {
	single := &metainfo.Torrent{Name: "a b.iso", Files: []metainfo.File{{Path: []string{"a b.iso"}, Length: 10}}}
	multi := &metainfo.Torrent{Name: "My Dir", MultiFile: true, Files: []metainfo.File{
		{Path: []string{"sub", "naïve file.txt"}, Length: 3},
		{Path: []string{".pad", "5"}, Length: 5, Offset: 3, Padding: true},
		{Path: []string{"100%#?.bin"}, Length: 2, Offset: 8},
	}}
	tests := []struct {
		base string
		m    *metainfo.Torrent
		want []string
	}{
		{"http://h/x.iso", single, []string{"http://h/x.iso"}},
		{"http://h/pub/", single, []string{"http://h/pub/a%20b.iso"}},
		{"http://h/pub/", multi, []string{"http://h/pub/My%20Dir/sub/na%C3%AFve%20file.txt", "", "http://h/pub/My%20Dir/100%25%23%3F.bin"}},
		{"http://h/pub", multi, []string{"http://h/pub/My%20Dir/sub/na%C3%AFve%20file.txt", "", "http://h/pub/My%20Dir/100%25%23%3F.bin"}},
	}
	for _, tc := range tests {
		files, err := Files(tc.base, tc.m)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, f.URL)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Files(%q, %s):\ngot  %q\nwant %q", tc.base, tc.m.Name, got, tc.want)
		}
	}
}

func TestSlices(t *testing.T) {
	files := []File{{Length: 3}, {Length: 0, Offset: 3}, {Length: 5, Offset: 3, Padding: true}, {Length: 10, Offset: 8}}
	got := Slices(files, 2, 8, nil)
	want := []Slice{{File: 0, FileOff: 2, BufOff: 0, Length: 1}, {File: 2, FileOff: 0, BufOff: 1, Length: 5}, {File: 3, FileOff: 0, BufOff: 6, Length: 2}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestEscapeLoose(t *testing.T) {
	for in, want := range map[string]string{
		"/a b/ü":       "/a%20b/%C3%BC",
		"/already%20x": "/already%20x",
		"/q?x=1&y=2":   "/q?x=1&y=2",
	} {
		if got := escapeLoose(in); got != want {
			t.Errorf("escapeLoose(%q) = %q, want %q", in, got, want)
		}
	}
}
