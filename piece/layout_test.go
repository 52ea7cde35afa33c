package piece

import (
	"errors"
	"testing"
)

// files builds a contiguous file list from (path, length) pairs; a path
// starting with "#" is a padding file.
func files(specs ...any) []FileEntry {
	var out []FileEntry
	var off int64
	for i := 0; i < len(specs); i += 2 {
		p, n := specs[i].(string), int64(specs[i+1].(int))
		pad := p[0] == '#'
		if pad {
			p = ".pad/" + p[1:]
		}
		out = append(out, FileEntry{Path: p, Length: n, Offset: off, Padding: pad})
		off += n
	}
	return out
}

func TestLayoutPieces(t *testing.T) {
	l := Layout{PieceLength: 10, Length: 25}
	if got := l.NumPieces(); got != 3 {
		t.Errorf("NumPieces() = %d, want 3", got)
	}
	for i, want := range map[int]int64{0: 10, 1: 10, 2: 5, 3: 0, -1: 0} {
		if got := l.PieceSize(i); got != want {
			t.Errorf("PieceSize(%d) = %d, want %d", i, got, want)
		}
	}
}

func TestLayoutValidate(t *testing.T) {
	ok := files("a/b", 10, "c", 5)
	tests := []struct {
		name string
		l    Layout
		ok   bool
	}{
		{"good", Layout{PieceLength: 4, Length: 15, Files: ok}, true},
		{"good with hashes", Layout{PieceLength: 4, Length: 15, Files: ok, Hashes: make([][20]byte, 4)}, true},
		{"zero piece length", Layout{PieceLength: 0, Length: 15, Files: ok}, false},
		{"wrong hash count", Layout{PieceLength: 4, Length: 15, Files: ok, Hashes: make([][20]byte, 3)}, false},
		{"length mismatch", Layout{PieceLength: 4, Length: 16, Files: ok}, false},
		{"gap", Layout{PieceLength: 4, Length: 15, Files: []FileEntry{{Path: "a", Length: 5}, {Path: "b", Length: 10, Offset: 6}}}, false},
		{"dotdot", Layout{PieceLength: 4, Length: 1, Files: files("a/../../x", 1)}, false},
		{"absolute", Layout{PieceLength: 4, Length: 1, Files: files("/etc/passwd", 1)}, false},
		{"empty component", Layout{PieceLength: 4, Length: 1, Files: files("a//b", 1)}, false},
		{"dot", Layout{PieceLength: 4, Length: 1, Files: files("./b", 1)}, false},
		{"nul", Layout{PieceLength: 4, Length: 1, Files: files("a\x00b", 1)}, false},
		{"backslash", Layout{PieceLength: 4, Length: 1, Files: files(`..\..\x`, 1)}, false},
		{"duplicate", Layout{PieceLength: 4, Length: 2, Files: files("a", 1, "a", 1)}, false},
		{"negative length", Layout{PieceLength: 4, Length: 0, Files: []FileEntry{{Path: "a", Length: -1}, {Path: "b", Length: 1, Offset: -1}}}, false},
	}
	for _, tt := range tests {
		err := tt.l.Validate()
		if tt.ok && err != nil {
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrLayout) {
			t.Errorf("%s: Validate() = %v, want ErrLayout", tt.name, err)
		}
	}
}

func TestWantedPieces(t *testing.T) {
	// Pieces of 10: a=[0,15) b=[15,35) pad=[35,40) c=[40,45) d=[45,60)
	l := Layout{PieceLength: 10, Length: 60, Files: files("a", 15, "b", 20, "#0", 5, "c", 5, "d", 15)}
	tests := []struct {
		skip []bool
		want string
	}{
		{nil, "111111"},
		{[]bool{false, true, false, true, true}, "110000"},     // b skipped, but piece 1 straddles a
		{[]bool{true, false, true, true, true}, "0111" + "00"}, // only b: pieces 1..3
		{[]bool{true, true, false, false, true}, "000010"},     // c only: piece 4, shared with skipped d
		{[]bool{true, true, false, true, true}, "000000"},      // padding alone is never wanted
	}
	for _, tt := range tests {
		if got := l.WantedPieces(tt.skip).String(); got != tt.want {
			t.Errorf("WantedPieces(%v) = %s, want %s", tt.skip, got, tt.want)
		}
	}
}
