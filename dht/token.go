package dht

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"net/netip"
	"time"
)

// Tokens (BEP 5): a get_peers answer carries a token that the asker must
// hand back in announce_peer, which proves it can receive at the address
// it announces from. A token is an HMAC-SHA1 of the asker's IP and the
// info-hash under a secret that changes every TokenRotate; the previous
// secret is still accepted, so a token lives between 5 and 10 minutes.
// Nothing is stored per asker.

// TokenRotate is how often the token secret changes.
const TokenRotate = 5 * time.Minute

const tokenLen = 8

type tokens struct {
	cur, prev [20]byte
	rotated   time.Time
}

func newTokens(now time.Time) tokens {
	var k tokens
	rand.Read(k.cur[:])
	rand.Read(k.prev[:])
	k.rotated = now
	return k
}

// rotate changes the secret if it is due; after two periods of silence
// both secrets are new.
func (k *tokens) rotate(now time.Time) {
	for i := 0; i < 2 && now.Sub(k.rotated) >= TokenRotate; i++ {
		k.prev = k.cur
		rand.Read(k.cur[:])
		k.rotated = k.rotated.Add(TokenRotate)
	}
	if now.Sub(k.rotated) >= TokenRotate {
		k.rotated = now
	}
}

func (k *tokens) token(ip netip.Addr, ih ID) []byte { return tokenFor(&k.cur, ip, ih) }

func (k *tokens) valid(tok []byte, ip netip.Addr, ih ID) bool {
	return hmac.Equal(tok, tokenFor(&k.cur, ip, ih)) || hmac.Equal(tok, tokenFor(&k.prev, ip, ih))
}

func tokenFor(secret *[20]byte, ip netip.Addr, ih ID) []byte {
	h := hmac.New(sha1.New, secret[:])
	b := ip.Unmap().As16()
	h.Write(b[:])
	h.Write(ih[:])
	return h.Sum(nil)[:tokenLen]
}
