package tracker

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func unhexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUDPRequestEncoding(t *testing.T) {
	req := AnnounceRequest{Port: 6881, Downloaded: 2, Left: 3, Uploaded: 1, Event: EventStarted, Key: 0xcafebabe}
	req.InfoHash[0], req.InfoHash[19] = 0xaa, 0xbb
	req.PeerID[0], req.PeerID[19] = 0xcc, 0xdd
	zeros18 := strings.Repeat("00", 18)
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"connect", appendConnectRequest(nil, 0x01020304), "0000041727101980 00000000 01020304"},
		{"announce", appendAnnounceRequest(nil, 0x1122334455667788, 7, req),
			"1122334455667788 00000001 00000007" + "aa" + zeros18 + "bb" + "cc" + zeros18 + "dd" +
				"0000000000000002 0000000000000003 0000000000000001 00000002 00000000 cafebabe ffffffff 1ae1"},
		{"scrape", appendScrapeRequest(nil, 9, 8, [][20]byte{{1}, {2}}),
			"0000000000000009 00000002 00000008" + "01" + zeros18 + "00" + "02" + zeros18 + "00"},
		{"connect reply", appendConnectReply(nil, 5, 0xfeedface01020304), "00000000 00000005 feedface01020304"},
		{"scrape reply", appendScrapeReply(nil, 5, []ScrapeStats{{1, 2, 3}}), "00000002 00000005 00000001 00000002 00000003"},
		{"error reply", appendErrorReply(nil, 5, "no"), "00000003 00000005 6e6f"},
		{"announce reply v4", appendAnnounceReply(nil, 5, 1800*time.Second, 7, 3,
			[]netip.AddrPort{ap("127.0.0.1:6881"), ap("[::1]:1")}, false),
			"00000001 00000005 00000708 00000007 00000003 7f000001 1ae1"},
		{"announce reply v6", appendAnnounceReply(nil, 5, 60*time.Second, 0, 0,
			[]netip.AddrPort{ap("127.0.0.1:6881"), ap("[::1]:1")}, true),
			"00000001 00000005 0000003c 00000000 00000000 " + strings.Repeat("00", 15) + "01 0001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := unhexBytes(t, tt.want); !bytes.Equal(tt.got, want) {
				t.Errorf("got  %x\nwant %x", tt.got, want)
			}
		})
	}
	if n := len(appendAnnounceRequest(nil, 0, 0, req)); n != announceReqLen {
		t.Errorf("announce request is %d bytes, want %d", n, announceReqLen)
	}
}

func TestParseUDPReply(t *testing.T) {
	tests := []struct {
		name string
		pkt  string
		v6   bool
		want udpReply
	}{
		{"connect", "00000000 00000005 feedface01020304", false, udpReply{action: actionConnect, tid: 5, connID: 0xfeedface01020304}},
		{"announce v4", "00000001 00000006 00000708 00000007 00000003 7f000001 1ae1 00000000 0001", false,
			udpReply{action: actionAnnounce, tid: 6, announce: &AnnounceResponse{Interval: 30 * time.Minute,
				Incomplete: 7, Complete: 3, Peers: []netip.AddrPort{ap("127.0.0.1:6881")}}}},
		{"announce v6", "00000001 00000006 0000003c 00000000 00000001 " + strings.Repeat("00", 15) + "01 1ae1", true,
			udpReply{action: actionAnnounce, tid: 6, announce: &AnnounceResponse{Interval: time.Minute,
				Complete: 1, Peers: []netip.AddrPort{ap("[::1]:6881")}}}},
		{"announce no peers", "00000001 00000006 0000003c 00000000 00000000", false,
			udpReply{action: actionAnnounce, tid: 6, announce: &AnnounceResponse{Interval: time.Minute}}},
		{"scrape", "00000002 00000007 00000001 00000002 00000003 00000004 00000005 00000006 ffff", false,
			udpReply{action: actionScrape, tid: 7, scrape: []ScrapeStats{{1, 2, 3}, {4, 5, 6}}}},
		{"error", "00000003 00000008 6e6f", false, udpReply{action: actionError, tid: 8, errMsg: "no"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUDPReply(unhexBytes(t, tt.pkt), tt.v6)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseUDPReplyErrors(t *testing.T) {
	for _, tt := range []struct {
		name, pkt string
		v6        bool
	}{
		{"short", "000000", false},
		{"short connect", "00000000 00000005 feed", false},
		{"short announce", "00000001 00000005 00000000", false},
		{"v4 peers length", "00000001 00000006 00000708 00000007 00000003 7f000001 1ae1 00", false},
		{"v6 peers length", "00000001 00000006 00000708 00000007 00000003 7f000001 1ae1", true},
		{"unknown action", "00000009 00000005", false},
	} {
		if _, err := parseUDPReply(unhexBytes(t, tt.pkt), tt.v6); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: got %v, want ErrBadResponse", tt.name, err)
		}
	}
}

func TestParseUDPRequest(t *testing.T) {
	req := testRequest()
	req.NumWant, req.Key, req.Event = 30, 99, EventCompleted
	got, err := parseUDPRequest(appendAnnounceRequest(nil, 42, 7, req))
	if err != nil {
		t.Fatal(err)
	}
	want := udpRequest{connID: 42, action: actionAnnounce, tid: 7, announce: req}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got, err = parseUDPRequest(appendScrapeRequest(nil, 42, 8, [][20]byte{{1}, {2}}))
	want = udpRequest{connID: 42, action: actionScrape, tid: 8, hashes: [][20]byte{{1}, {2}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
	huge := appendAnnounceRequest(nil, 1, 1, AnnounceRequest{Left: -1})
	copy(huge[56:], unhexBytes(t, "ffffffffffffffff"))
	if got, _ := parseUDPRequest(huge); got.announce.Downloaded < 0 {
		t.Errorf("downloaded 2^64-1 decoded as %d, want non-negative", got.announce.Downloaded)
	}

	bad := map[string][]byte{
		"short":               appendConnectRequest(nil, 1)[:15],
		"connect wrong magic": unhexBytes(t, "0000041727101981 00000000 01020304"),
		"short announce":      appendAnnounceRequest(nil, 1, 1, req)[:97],
		"empty scrape":        appendScrapeRequest(nil, 1, 1, nil),
		"huge scrape":         appendScrapeRequest(nil, 1, 1, make([][20]byte, maxUDPScrapeHashes+1)),
		"error from client":   unhexBytes(t, "0000000000000000 00000003 00000001"),
	}
	for name, pkt := range bad {
		if _, err := parseUDPRequest(pkt); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: got %v, want an error", name, err)
		}
	}
}
