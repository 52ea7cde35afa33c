package mse

import (
	"encoding/binary"
	"math/big"
)

// The scripted peers: each side of the handshake written out step by
// step on a memStream, with knobs that make it misbehave. They share the
// package's key and hash functions (which the loopback tests check against
// each other, and the libtorrent interop test against another client) and
// build the messages themselves, so that every field can be wrong.

// tamper damages the bytes a script sends: it flips one byte and/or cuts
// the stream short, counting over everything the script sends.
type tamper struct {
	flipAt   int  // index of the byte to change; -1 for none
	flipBy   byte // xor mask (0 changes nothing)
	truncate int  // bytes sent before the script falls silent; -1 for all
	sent     int
}

func (tp *tamper) emit(m *memStream, part []byte) {
	part = append([]byte(nil), part...)
	if i := tp.flipAt - tp.sent; tp.flipAt >= 0 && i >= 0 && i < len(part) {
		part[i] ^= tp.flipBy
	}
	if tp.truncate >= 0 {
		part = part[:max(0, min(len(part), tp.truncate-tp.sent))]
	}
	tp.sent += len(part)
	m.in = append(m.in, part...)
}

// scriptA is an initiator. Its zero knobs (after newScriptA) are a
// well-behaved one.
type scriptA struct {
	tamper
	infoHash [20]byte
	key      []byte // Ya; nil for a real one
	padA     int
	noReq1   bool   // send zeros in place of HASH('req1', S)
	provide  uint32 // crypto_provide
	padC     int    // len(PadC), and as many bytes (capped at 4096)
	ia       []byte
	lenIA    int // the declared len(IA); -1 for len(ia)
}

func newScriptA(ih [20]byte) *scriptA {
	return &scriptA{tamper: tamper{flipAt: -1, truncate: -1}, infoHash: ih, provide: uint32(Plaintext | RC4), lenIA: -1}
}

// start returns the stream Accept is to run on, with step 1 on it.
func (a *scriptA) start() *memStream {
	k, err := newKeyPair()
	if err != nil {
		panic(err)
	}
	m := &memStream{}
	ya := k.public[:]
	if a.key != nil {
		ya = a.key
	}
	a.emit(m, append(append([]byte(nil), ya...), make([]byte, a.padA)...))
	var got []byte
	m.onWrite = func(m *memStream, p []byte) {
		if len(got) >= keyLen {
			return // step 4: nothing more to send
		}
		got = append(got, p...)
		if len(got) < keyLen {
			return
		}
		secret, err := k.secret(got[:keyLen])
		if err != nil {
			panic(err) // Accept sent a bad key
		}
		a.emit(m, a.step3(&secret))
	}
	return m
}

func (a *scriptA) step3(secret *[keyLen]byte) []byte {
	var msg []byte
	if a.noReq1 {
		msg = make([]byte, 20)
	} else {
		r1 := hash([]byte("req1"), secret[:])
		msg = r1[:]
	}
	obf := req3xor(Req2(a.infoHash), secret)
	msg = append(msg, obf[:]...)
	plain := len(msg)
	msg = append(msg, make([]byte, vcLen)...)
	msg = binary.BigEndian.AppendUint32(msg, a.provide)
	msg = binary.BigEndian.AppendUint16(msg, uint16(a.padC))
	msg = append(msg, make([]byte, min(a.padC, 4096))...)
	lenIA := a.lenIA
	if lenIA < 0 {
		lenIA = len(a.ia)
	}
	msg = binary.BigEndian.AppendUint16(msg, uint16(lenIA))
	msg = append(msg, a.ia...)
	enc, _ := ciphers(secret, a.infoHash)
	enc.XORKeyStream(msg[plain:], msg[plain:])
	return msg
}

// scriptB is a receiver that answers as soon as it has Ya.
type scriptB struct {
	tamper
	infoHash [20]byte
	key      []byte // Yb; nil for a real one
	padB     int
	noVC     bool   // send zeros in place of ENCRYPT(VC)
	sel      uint32 // crypto_select
	padD     int    // len(PadD), and as many bytes (capped at 4096)
	after    []byte // what follows the handshake, encrypted if sel is RC4
}

func newScriptB(ih [20]byte, sel Method) *scriptB {
	return &scriptB{tamper: tamper{flipAt: -1, truncate: -1}, infoHash: ih, sel: uint32(sel)}
}

// start returns the stream Initiate is to run on.
func (b *scriptB) start() *memStream {
	k, err := newKeyPair()
	if err != nil {
		panic(err)
	}
	var got []byte
	return &memStream{onWrite: func(m *memStream, p []byte) {
		if len(got) >= keyLen {
			return // step 3: B need not read it to answer
		}
		got = append(got, p...)
		if len(got) < keyLen {
			return
		}
		secret, err := k.secret(got[:keyLen])
		if err != nil {
			panic(err) // Initiate sent a bad key
		}
		yb := k.public[:]
		if b.key != nil {
			yb = b.key
		}
		b.emit(m, append(append([]byte(nil), yb...), make([]byte, b.padB)...))
		b.emit(m, b.step4(&secret))
	}}
}

func (b *scriptB) step4(secret *[keyLen]byte) []byte {
	msg := make([]byte, vcLen)
	msg = binary.BigEndian.AppendUint32(msg, b.sel)
	msg = binary.BigEndian.AppendUint16(msg, uint16(b.padD))
	msg = append(msg, make([]byte, min(b.padD, 4096))...)
	_, enc := ciphers(secret, b.infoHash)
	enc.XORKeyStream(msg, msg)
	if b.noVC {
		clear(msg[:vcLen])
	}
	after := append([]byte(nil), b.after...)
	if Method(b.sel) == RC4 {
		enc.XORKeyStream(after, after)
	}
	return append(msg, after...)
}

// keyBytes is n as a 96-byte public key.
func keyBytes(n *big.Int) []byte { return n.FillBytes(make([]byte, keyLen)) }
