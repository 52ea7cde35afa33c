package mse

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestAcceptBadInput runs Accept against initiators that break the
// handshake in each way a hostile or broken peer can.
func TestAcceptBadInput(t *testing.T) {
	ih := testHash(1)
	tests := []struct {
		name    string
		set     func(a *scriptA)
		allowed Method
		want    error
	}{
		{"PadA of 513 bytes", func(a *scriptA) { a.padA = 513 }, RC4, ErrSync},
		// PadC is long only to keep bytes coming past the scan's bound.
		{"no req1", func(a *scriptA) { a.noReq1, a.padC = true, 600 }, RC4, ErrSync},
		{"unknown torrent", func(a *scriptA) { a.infoHash = testHash(9) }, RC4, ErrUnknownTorrent},
		{"bad VC", func(a *scriptA) { a.flipAt, a.flipBy = keyLen+40+3, 1 }, RC4, ErrSync},
		{"PadC of 513 bytes", func(a *scriptA) { a.padC = 513 }, RC4, ErrPadding},
		{"IA over the bound", func(a *scriptA) { a.lenIA = MaxInitialPayload + 1 }, RC4, ErrPayloadTooLong},
		{"plaintext offered, RC4 required", func(a *scriptA) { a.provide = uint32(Plaintext) }, RC4, ErrNoSharedMethod},
		{"nothing offered", func(a *scriptA) { a.provide = 0x8 }, RC4 | Plaintext, ErrNoSharedMethod},
		{"public key 1", func(a *scriptA) { a.key = keyBytes(big.NewInt(1)) }, RC4, ErrBadKey},
		{"public key p-1", func(a *scriptA) { a.key = keyBytes(primeLess) }, RC4, ErrBadKey},
		{"public key p", func(a *scriptA) { a.key = keyBytes(prime) }, RC4, ErrBadKey},
		{"hangs up in the key", func(a *scriptA) { a.truncate = 50 }, RC4, io.ErrUnexpectedEOF},
		{"hangs up in PadC", func(a *scriptA) { a.padC, a.truncate = 100, keyLen+40+14+50 }, RC4, io.ErrUnexpectedEOF},
		{"hangs up in IA", func(a *scriptA) { a.ia, a.truncate = make([]byte, 68), keyLen+40+16+10 }, RC4, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newScriptA(ih)
			tc.set(a)
			m := a.start()
			runLoop(t, func(task *aio.Task) error {
				_, err := Accept(task, m, nil, LookupList(ih, testHash(2)), tc.allowed, time.Second)
				if !errors.Is(err, tc.want) {
					t.Errorf("got %v, want %v", err, tc.want)
				}
				if err != nil && !strings.Contains(err.Error(), "192.0.2.1:6881") {
					t.Errorf("error %q does not name the peer", err)
				}
				if !m.closed {
					t.Error("stream left open after a failed handshake")
				}
				return nil
			})
		})
	}
}

// TestInitiateBadInput runs Initiate against receivers that break the
// handshake.
func TestInitiateBadInput(t *testing.T) {
	ih := testHash(1)
	tests := []struct {
		name    string
		set     func(b *scriptB)
		provide Method
		want    error
	}{
		{"PadB of 513 bytes", func(b *scriptB) { b.padB = 513 }, RC4, ErrSync},
		// PadD is long only to keep bytes coming past the scan's bound.
		{"no VC", func(b *scriptB) { b.noVC, b.padD = true, 600 }, RC4, ErrSync},
		{"another torrent's keys", func(b *scriptB) { b.infoHash, b.padD = testHash(2), 600 }, RC4, ErrSync},
		{"selects plaintext, not offered", func(b *scriptB) { b.sel = uint32(Plaintext) }, RC4, ErrBadSelect},
		{"selects both", func(b *scriptB) { b.sel = uint32(Plaintext | RC4) }, Plaintext | RC4, ErrBadSelect},
		{"selects nothing", func(b *scriptB) { b.sel = 0 }, Plaintext | RC4, ErrBadSelect},
		{"PadD of 513 bytes", func(b *scriptB) { b.padD = 513 }, RC4, ErrPadding},
		{"public key 0", func(b *scriptB) { b.key = keyBytes(big.NewInt(0)) }, RC4, ErrBadKey},
		{"hangs up in PadB", func(b *scriptB) { b.padB, b.truncate = 300, keyLen+100 }, RC4, io.ErrUnexpectedEOF},
		{"hangs up in PadD", func(b *scriptB) { b.padD, b.truncate = 300, keyLen+14+100 }, RC4, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newScriptB(ih, RC4)
			tc.set(b)
			m := b.start()
			runLoop(t, func(task *aio.Task) error {
				_, _, err := Initiate(task, m, ih, tc.provide, nil, time.Second)
				if !errors.Is(err, tc.want) {
					t.Errorf("got %v, want %v", err, tc.want)
				}
				if !m.closed {
					t.Error("stream left open after a failed handshake")
				}
				return nil
			})
		})
	}
}

// TestInitiateReadsNoFurther: the receiver's first payload bytes arrive
// with its handshake, after the longest paddings; the handshake must
// leave them all to the returned stream, raw or decrypted.
func TestInitiateReadsNoFurther(t *testing.T) {
	for _, sel := range []Method{Plaintext, RC4} {
		t.Run(sel.String(), func(t *testing.T) {
			b := newScriptB(testHash(1), sel)
			b.padB, b.padD = maxPad, maxPad
			b.after = []byte("\x13BitTorrent protocol: the receiver's handshake")
			m := b.start()
			m.chunk = 7 // reads end anywhere
			runLoop(t, func(task *aio.Task) error {
				s, got, err := Initiate(task, m, testHash(1), Plaintext|RC4, nil, time.Second)
				if err != nil {
					return err
				}
				if got != sel {
					t.Errorf("selected %v, want %v", got, sel)
				}
				var rest []byte
				buf := make([]byte, 100)
				for {
					n, err := s.Read(task, buf)
					rest = append(rest, buf[:n]...)
					if err == io.EOF {
						break
					} else if err != nil {
						return err
					}
				}
				if !bytes.Equal(rest, b.after) {
					t.Errorf("stream continues with %q, want %q", rest, b.after)
				}
				return nil
			})
		})
	}
}

// TestAcceptTakesPrefix: a listener peeks at the first bytes to tell
// plaintext from MSE; Accept continues from them. The longest padding and
// reads that stop anywhere exercise the req1 scan.
func TestAcceptTakesPrefix(t *testing.T) {
	a := newScriptA(testHash(3))
	a.padA, a.padC = maxPad, maxPad
	a.ia = []byte("\x13BitTorrent protocol...")
	m := a.start()
	m.chunk = 5
	prefix := append([]byte(nil), m.in[:PeekLen]...)
	m.in = m.in[PeekLen:]
	runLoop(t, func(task *aio.Task) error {
		acc, err := Accept(task, m, prefix, LookupList(testHash(1), testHash(2), testHash(3)), RC4, time.Second)
		if err != nil {
			return err
		}
		if acc.InfoHash != testHash(3) || acc.Method != RC4 || !bytes.Equal(acc.InitialPayload, a.ia) {
			t.Errorf("got %x %v %q, want %x rc4 %q", acc.InfoHash, acc.Method, acc.InitialPayload, testHash(3), a.ia)
		}
		if len(m.in) != 0 {
			t.Errorf("%d bytes of the handshake left unread", len(m.in))
		}
		return nil
	})
}

// TestStallTimesOut: a peer that sends its key and then nothing is
// dropped with aio.ErrTimeout once the handshake timeout passes, on
// either side.
func TestStallTimesOut(t *testing.T) {
	runLoop(t, func(task *aio.Task) error {
		d, a, err := tcpPair(task)
		if err != nil {
			return err
		}
		defer d.Close()
		defer a.Close()
		// d sends a key and stalls; a, accepting, waits for req1.
		if err := d.WriteAll(task, make([]byte, keyLen-1)); err != nil {
			return err
		}
		if err := d.WriteAll(task, []byte{5}); err != nil {
			return err
		}
		_, err = Accept(task, a, nil, LookupList(testHash(1)), RC4, 100*time.Millisecond)
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("Accept: got %v, want ErrTimeout", err)
		}
		// Another pair: the receiver never answers.
		d2, a2, err := tcpPair(task)
		if err != nil {
			return err
		}
		defer a2.Close()
		_, _, err = Initiate(task, d2, testHash(1), RC4, nil, 100*time.Millisecond)
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("Initiate: got %v, want ErrTimeout", err)
		}
		return nil
	})
}
