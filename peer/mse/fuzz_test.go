package mse

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The fuzz targets feed each side either arbitrary bytes (the first byte
// of the input even) or a scripted peer whose every field the input sets
// and whose stream it may damage at one byte or cut short (odd). Neither
// may panic or hang; an accepted handshake must agree with what the
// script sent.

// knobs reads the script's settings from the front of data.
type knobs struct{ data []byte }

func (k *knobs) u16() int {
	if len(k.data) < 2 {
		k.data = nil
		return 0
	}
	v := int(binary.BigEndian.Uint16(k.data))
	k.data = k.data[2:]
	return v
}

func (k *knobs) tamper() tamper {
	tp := tamper{flipAt: -1, truncate: -1}
	if at := k.u16(); at < 0x8000 {
		tp.flipAt, tp.flipBy = at%1400, byte(k.u16())|1
	}
	if n := k.u16(); n < 0x8000 {
		tp.truncate = n % 1400
	}
	return tp
}

func FuzzAcceptHandshake(f *testing.F) {
	f.Add([]byte{0}, 5)
	f.Add([]byte{1, 0, 0, 0, 3, 0, 0, 0, 68, 0xff, 0xff, 0, 0, 0xff, 0xff, 1}, 0)
	f.Add([]byte{1, 2, 0, 0, 2, 0, 0, 2, 0, 0xff, 0xff, 0, 0, 0xff, 0xff, 0}, 3)
	f.Add([]byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 200, 0, 1, 0xff, 0xff, 2}, 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if len(data) == 0 {
			return
		}
		ih := testHash(byte(len(data) % 2))
		var m *memStream
		var a *scriptA
		if data[0]%2 == 0 {
			m = &memStream{in: data[1:]}
		} else {
			k := knobs{data[1:]}
			a = newScriptA(ih)
			a.padA = k.u16() % 600
			a.provide = uint32(k.u16()) & 0xf
			a.padC = k.u16() % 600
			a.ia = make([]byte, k.u16()%80)
			a.lenIA = -1
			a.tamper = k.tamper()
			if len(k.data) > 0 {
				a.noReq1 = k.data[0]&1 != 0
			}
			m = a.start()
		}
		m.chunk = chunk % 600
		allowed := Method(1 + len(data)%3)
		runLoop(t, func(task *aio.Task) error {
			acc, err := Accept(task, m, nil, LookupList(testHash(0), testHash(1)), allowed, time.Second)
			if err != nil {
				if !m.closed {
					t.Error("stream left open")
				}
				return nil
			}
			if a == nil {
				t.Fatalf("accepted arbitrary bytes: %+v", acc)
			}
			if a.flipAt >= 0 {
				return nil // a flipped field may have said anything
			}
			if acc.Method&allowed&Method(a.provide) == 0 || acc.InfoHash != ih || len(acc.InitialPayload) != len(a.ia) {
				t.Errorf("accepted %v for %x with %d bytes, script sent %v for %x with %d",
					acc.Method, acc.InfoHash, len(acc.InitialPayload), a.provide, ih, len(a.ia))
			}
			return nil
		})
	})
}

func FuzzInitiateHandshake(f *testing.F) {
	f.Add([]byte{0}, 5)
	f.Add([]byte{1, 0, 0, 0, 2, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff}, 0)
	f.Add([]byte{1, 2, 0, 0, 1, 1, 0, 0xff, 0xff, 0, 0, 0xff, 0xff}, 3)
	f.Add([]byte{1, 0, 9, 0, 2, 0, 0, 0, 40, 0, 0, 0, 100}, 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if len(data) == 0 {
			return
		}
		ih := testHash(1)
		var m *memStream
		var b *scriptB
		if data[0]%2 == 0 {
			script := data[1:]
			m = &memStream{onWrite: func(m *memStream, p []byte) {
				m.in, script = append(m.in, script...), nil // answer the first write
			}}
		} else {
			k := knobs{data[1:]}
			b = newScriptB(ih, RC4)
			b.padB = k.u16() % 600
			b.sel = uint32(k.u16()) & 0xf
			b.padD = k.u16() % 600
			b.after = []byte("after")
			b.tamper = k.tamper()
			m = b.start()
		}
		m.chunk = chunk % 600
		provide := Method(1 + len(data)%3)
		runLoop(t, func(task *aio.Task) error {
			s, sel, err := Initiate(task, m, ih, provide, []byte("ia"), time.Second)
			if err != nil {
				if !m.closed {
					t.Error("stream left open")
				}
				return nil
			}
			if b == nil {
				t.Fatalf("initiated over arbitrary bytes: %v", sel)
			}
			if sel&provide == 0 || b.flipAt < 0 && sel != Method(b.sel) {
				t.Errorf("selected %v, script sent %v, we provided %v", sel, b.sel, provide)
			}
			if b.flipAt < 0 && b.truncate < 0 {
				got := make([]byte, 16)
				n, _ := s.Read(task, got)
				if !bytes.Equal(got[:n], b.after[:n]) {
					t.Errorf("stream continues with %q, want %q", got[:n], b.after)
				}
			}
			return nil
		})
	})
}
