package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1GiB", 1 << 30, false},
		{"256MiB", 256 << 20, false},
		{"1.5 GiB", 3 << 29, false},
		{"500MB", 500e6, false},
		{"4096", 4096, false},
		{"16M", 16 << 20, false},
		{"", 0, true},
		{"-1GiB", 0, true},
		{"lots", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestPayloadFilesAddUp(t *testing.T) {
	for _, size := range []int64{1 << 20, 64 << 20, 1 << 30} {
		var sum int64
		for _, n := range payloadFiles(size) {
			if n <= 0 {
				t.Errorf("size %d: a file of %d bytes", size, n)
			}
			sum += n
		}
		if sum != size {
			t.Errorf("size %d: files add up to %d", size, sum)
		}
	}
}

func TestSummaryTime(t *testing.T) {
	tests := []struct {
		out  string
		want time.Duration
	}{
		{"payload: 1.0 GiB / 1.0 GiB (100.0%), 0 B/s, 1 peers\npayload: 1.0 GiB in 1.757s (582.9 MiB/s), 1 peers used\n", 1757 * time.Millisecond},
		{"payload: 64.0 MiB in 84ms (761.9 MiB/s), 1 peers used\n", 84 * time.Millisecond},
		{"no summary\n", 0},
	}
	for _, tt := range tests {
		if got := summaryTime(tt.out); got != tt.want {
			t.Errorf("summaryTime(%q) = %v, want %v", tt.out, got, tt.want)
		}
	}
}

func TestAria2Transfer(t *testing.T) {
	log := `2026-11-25 14:33:46.830967 [NOTICE] [Context.cc:310] Downloading 1 item(s)
2026-11-25 14:33:46.842540 [NOTICE] [PeerListenCommand.cc:78] IPv4 BitTorrent: listening on TCP port 17201
2026-11-25 14:33:50.609853 [NOTICE] [SeedCheckCommand.cc:79] Seeding is over.
2026-11-25 14:33:52.123829 [NOTICE] [RequestGroup.cc:1214] Download complete: dla/payload
`
	p := filepath.Join(t.TempDir(), "aria2.log")
	if err := os.WriteFile(p, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := aria2Transfer(p), 3778886*time.Microsecond; got != want {
		t.Errorf("aria2Transfer = %v, want %v", got, want)
	}
	if got := aria2Transfer(filepath.Join(t.TempDir(), "missing.log")); got != 0 {
		t.Errorf("missing log: got %v, want 0", got)
	}
}

func TestProcOfSelf(t *testing.T) {
	cpu, err := procCPU(os.Getpid())
	if err != nil || cpu < 0 {
		t.Errorf("procCPU(self) = %v, %v", cpu, err)
	}
	rss, err := procPeakRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Errorf("procPeakRSS(self) = %d, %v; want at least 1 MiB", rss, err)
	}
}

// TestTrackerLoadPartition: every peer of the population (and of the
// churn's range) belongs to exactly one client, whose sockets are the
// peer's source address.
func TestTrackerLoadPartition(t *testing.T) {
	const clients, n = 64, 25000
	seen := make([]int, n)
	for c := range clients {
		for _, i := range owned(c, clients, 0, n) {
			seen[i]++
			if k := int(peerIP(i).As4()[2])<<8 | int(peerIP(i).As4()[3]); k%clients != c {
				t.Fatalf("peer %d (address %v) is client %d's", i, peerIP(i), c)
			}
		}
	}
	for i, k := range seen {
		if k != 1 {
			t.Fatalf("peer %d is owned by %d clients", i, k)
		}
	}
	if peerIP(0) == peerIP(peersPerIP) || peerPort(0) == 0 {
		t.Errorf("peers 0 and %d share an address, or a port is 0", peersPerIP)
	}
}

func TestTrackerFlags(t *testing.T) {
	o, err := parseTrackerFlags([]string{"--clients", "8", "--servers", "opentracker"})
	if err != nil || o.clients != 8 || o.torrents != 1000 || o.peers != 100 || len(o.servers) != 1 || o.servers[0] != "opentracker" {
		t.Errorf("got %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"--servers", "qbittorrent"}, {"--clients", "0"}, {"extra"}} {
		if _, err := parseTrackerFlags(bad); err == nil {
			t.Errorf("%q: got nil error", bad)
		}
	}
	if got := string(appendEscaped(nil, []byte("a-Z9 \x00\xff"))); got != "a-Z9%20%00%FF" {
		t.Errorf("appendEscaped: got %q", got)
	}
}
