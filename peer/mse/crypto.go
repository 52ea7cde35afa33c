package mse

import (
	"crypto/rand"
	"crypto/rc4"
	"crypto/sha1"
	"fmt"
	"math/big"
)

// The Diffie-Hellman group: the 768-bit prime the spec fixes, generator 2.
// Public keys go on the wire as 96 big-endian bytes, left-padded with
// zeros, and so does the shared secret S wherever it is hashed.
var (
	prime     = mustHex("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563")
	generator = big.NewInt(2)
	primeLess = new(big.Int).Sub(prime, big.NewInt(1)) // p-1
)

const (
	keyLen     = 96  // a public key or S on the wire
	privateLen = 20  // 160 bits: the spec's "beyond 180 bit adds nothing"
	maxPad     = 512 // PadA, PadB, PadC, PadD are each 0..512 bytes
	vcLen      = 8   // the verification constant, eight zero bytes
	discard    = 1024
)

func mustHex(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("mse: bad prime")
	}
	return n
}

// keyPair is one side's ephemeral DH key and the padding that follows its
// public key, drawn together so that one executor job does both.
type keyPair struct {
	private *big.Int
	public  [keyLen]byte
	pad     []byte // 0..512 random bytes
}

// newKeyPair draws a private key and computes g^x mod p. It runs on an
// executor thread: one exponentiation costs about 90 µs (see
// BenchmarkKeyExchange), too long for the loop thread.
func newKeyPair() (*keyPair, error) {
	var x [privateLen]byte
	var n [2]byte
	if _, err := rand.Read(x[:]); err != nil {
		return nil, fmt.Errorf("mse: random key: %w", err)
	}
	if _, err := rand.Read(n[:]); err != nil {
		return nil, fmt.Errorf("mse: random padding: %w", err)
	}
	k := &keyPair{private: new(big.Int).SetBytes(x[:])}
	new(big.Int).Exp(generator, k.private, prime).FillBytes(k.public[:])
	k.pad = make([]byte, (int(n[0])<<8|int(n[1]))%(maxPad+1))
	if _, err := rand.Read(k.pad); err != nil {
		return nil, fmt.Errorf("mse: random padding: %w", err)
	}
	return k, nil
}

// secret is S = Y^x mod p for the peer's public key Y, as 96 bytes. A Y
// outside 2..p-2 would make S guessable (0, 1 or ±1), so it is refused.
func (k *keyPair) secret(theirs []byte) ([keyLen]byte, error) {
	var s [keyLen]byte
	y := new(big.Int).SetBytes(theirs)
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(primeLess) >= 0 {
		return s, ErrBadKey
	}
	new(big.Int).Exp(y, k.private, prime).FillBytes(s[:])
	return s, nil
}

// hash is SHA-1 over the concatenation of parts: the spec's HASH().
func hash(parts ...[]byte) [20]byte {
	h := sha1.New()
	for _, p := range parts {
		h.Write(p)
	}
	var sum [20]byte
	h.Sum(sum[:0])
	return sum
}

// Req2 is HASH('req2', infoHash): what an incoming handshake identifies
// its torrent by, once the receiver has removed HASH('req3', S) from it.
// A listener with many torrents can keep a map from Req2 to info hash
// (see SKeyLookup).
func Req2(infoHash [20]byte) [20]byte { return hash([]byte("req2"), infoHash[:]) }

// req3xor is HASH('req2', SKEY) xor HASH('req3', S), the initiator's
// obfuscated torrent name; it is its own inverse given S.
func req3xor(req2 [20]byte, s *[keyLen]byte) [20]byte {
	r3 := hash([]byte("req3"), s[:])
	for i := range r3 {
		r3[i] ^= req2[i]
	}
	return r3
}

// ciphers are the two RC4 streams of a connection: keyA encrypts what
// the initiator sends, keyB what the receiver sends. Each drops its first
// 1024 bytes of keystream, as the spec requires (RC4's early output is
// biased).
func ciphers(s *[keyLen]byte, infoHash [20]byte) (a, b *rc4.Cipher) {
	return newRC4("keyA", s, infoHash), newRC4("keyB", s, infoHash)
}

func newRC4(which string, s *[keyLen]byte, infoHash [20]byte) *rc4.Cipher {
	key := hash([]byte(which), s[:], infoHash[:])
	c, err := rc4.NewCipher(key[:])
	if err != nil {
		panic(err) // a 20-byte key is always valid
	}
	var junk [discard]byte
	c.XORKeyStream(junk[:], junk[:])
	return c
}
