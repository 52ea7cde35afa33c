package mse

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// handshakePair runs Initiate on one end of a loopback pair and Accept on
// the other, concurrently, and returns both results.
func handshakePair(t *aio.Task, ih [20]byte, provide Method, ia []byte, lookup SKeyLookup, allowed Method) (Stream, Method, Accepted, error) {
	d, a, err := tcpPair(t)
	if err != nil {
		return nil, 0, Accepted{}, err
	}
	acc := aio.Spawn(t, "accept", func(t *aio.Task) (Accepted, error) {
		return Accept(t, a, nil, lookup, allowed, 5*time.Second)
	})
	s, m, ierr := Initiate(t, d, ih, provide, ia, 5*time.Second)
	got, aerr := aio.Await(t, acc)
	if ierr != nil || aerr != nil {
		return nil, 0, Accepted{}, fmt.Errorf("initiate: %v; accept: %v", ierr, aerr)
	}
	return s, m, got, nil
}

// TestHandshakeAndPayload runs both sides over loopback for each method,
// with the acceptor holding several torrents, and moves 1 MiB each way at
// once through the returned streams.
func TestHandshakeAndPayload(t *testing.T) {
	tests := []struct {
		provide, allowed, want Method
	}{
		{RC4, RC4, RC4},
		{Plaintext | RC4, Plaintext | RC4, Plaintext}, // libtorrent's choice too (prefer_rc4 off)
		{Plaintext | RC4, RC4, RC4},
		{Plaintext, Plaintext | RC4, Plaintext},
		{Plaintext | RC4, Plaintext, Plaintext},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("provide=%v,allowed=%v", tc.provide, tc.allowed), func(t *testing.T) {
			ia := []byte("\x13BitTorrent protocol, or anything else the initiator sends first")
			lookup := LookupList(testHash(1), testHash(2), testHash(3))
			runLoop(t, func(task *aio.Task) error {
				s, m, acc, err := handshakePair(task, testHash(2), tc.provide, ia, lookup, tc.allowed)
				if err != nil {
					return err
				}
				defer s.Close()
				defer acc.Stream.Close()
				if m != tc.want || acc.Method != tc.want {
					t.Errorf("initiator got %v, acceptor %v, want %v", m, acc.Method, tc.want)
				}
				if acc.InfoHash != testHash(2) {
					t.Errorf("acceptor found %x, want %x", acc.InfoHash, testHash(2))
				}
				if !bytes.Equal(acc.InitialPayload, ia) {
					t.Errorf("initial payload %q, want %q", acc.InitialPayload, ia)
				}
				return exchange(t, task, s, acc.Stream, 1<<20)
			})
		})
	}
}

// exchange sends n pseudo-random bytes each way at once, as writevs of
// mixed buffer sizes, and checks that each side reads them byte for byte
// and that the writers' buffers were not touched.
func exchange(t *testing.T, task *aio.Task, a, b Stream, n int) error {
	send := func(s Stream, seed uint64) *aio.Handle[[]byte] {
		return aio.Spawn(task, "send", func(task *aio.Task) ([]byte, error) {
			data := randBytes(seed, n)
			orig := bytes.Clone(data)
			r := rand.New(rand.NewPCG(seed, 1))
			for rest := data; len(rest) > 0; {
				var bufs [][]byte
				for i := 0; i < 1+r.IntN(6) && len(rest) > 0; i++ {
					k := min(len(rest), []int{13, 16384, 1, 70000}[r.IntN(4)])
					bufs = append(bufs, rest[:k])
					rest = rest[k:]
				}
				if _, err := s.Writev(task, bufs); err != nil {
					return nil, err
				}
			}
			if !bytes.Equal(data, orig) {
				t.Errorf("Writev changed the caller's bytes")
			}
			return data, nil
		})
	}
	recv := func(s Stream) *aio.Handle[[]byte] {
		return aio.Spawn(task, "recv", func(task *aio.Task) ([]byte, error) {
			got := make([]byte, 0, n)
			buf := make([]byte, 50000)
			for len(got) < n {
				k, err := s.Read(task, buf[:min(len(buf), n-len(got))])
				if err != nil {
					return got, err
				}
				got = append(got, buf[:k]...)
			}
			return got, nil
		})
	}
	sa, sb := send(a, 1), send(b, 2)
	ra, rb := recv(a), recv(b)
	for _, p := range []struct {
		name       string
		sent, recv *aio.Handle[[]byte]
	}{{"a to b", sa, rb}, {"b to a", sb, ra}} {
		want, err := aio.Await(task, p.sent)
		if err != nil {
			return fmt.Errorf("%s: send: %w", p.name, err)
		}
		got, err := aio.Await(task, p.recv)
		if err != nil {
			return fmt.Errorf("%s: receive: %w", p.name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes differ from the %d sent", p.name, len(got), len(want))
		}
	}
	return nil
}

func randBytes(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// TestPlaintextReturnsRawStream: plaintext-in-MSE costs nothing after
// the handshake, so both sides get the socket itself back.
func TestPlaintextReturnsRawStream(t *testing.T) {
	runLoop(t, func(task *aio.Task) error {
		s, _, acc, err := handshakePair(task, testHash(1), Plaintext, nil, LookupList(testHash(1)), Plaintext)
		if err != nil {
			return err
		}
		defer s.Close()
		defer acc.Stream.Close()
		if _, ok := s.(*aio.TCPConn); !ok {
			t.Errorf("initiator got %T, want the *aio.TCPConn", s)
		}
		if _, ok := acc.Stream.(*aio.TCPConn); !ok {
			t.Errorf("acceptor got %T, want the *aio.TCPConn", acc.Stream)
		}
		return nil
	})
}

func TestIsPlaintext(t *testing.T) {
	tests := []struct {
		first []byte
		want  bool
	}{
		{[]byte("\x13BitTorrent protocol\x00\x00"), true},
		{[]byte("\x13BitTorrent protocol"), true},
		{[]byte("\x13BitTorrent protoco"), false}, // too short to tell
		{[]byte("\x13BitTorrent Protocol"), false},
		{make([]byte, 96), false},
	}
	for _, tc := range tests {
		if got := IsPlaintext(tc.first); got != tc.want {
			t.Errorf("IsPlaintext(%q) = %v, want %v", tc.first, got, tc.want)
		}
	}
}
