package peer

import "strconv"

// ID is the one-byte message type that follows a frame's length prefix.
type ID uint8

// BEP 3: the core protocol (https://www.bittorrent.org/beps/bep_0003.html).
const (
	Choke         ID = 0 // <len=0001><id=0>
	Unchoke       ID = 1 // <len=0001><id=1>
	Interested    ID = 2 // <len=0001><id=2>
	NotInterested ID = 3 // <len=0001><id=3>
	Have          ID = 4 // <len=0005><id=4><index>
	Bitfield      ID = 5 // <len=0001+X><id=5><bitfield>
	Request       ID = 6 // <len=0013><id=6><index><begin><length>
	Piece         ID = 7 // <len=0009+X><id=7><index><begin><block>
	Cancel        ID = 8 // <len=0013><id=8><index><begin><length>
)

// BEP 5: the DHT listen port (https://www.bittorrent.org/beps/bep_0005.html).
const (
	Port ID = 9 // <len=0003><id=9><listen-port>
)

// BEP 6: the fast extension (https://www.bittorrent.org/beps/bep_0006.html).
const (
	Suggest     ID = 0x0D // <len=0005><id=13><index>
	HaveAll     ID = 0x0E // <len=0001><id=14>
	HaveNone    ID = 0x0F // <len=0001><id=15>
	Reject      ID = 0x10 // <len=0013><id=16><index><begin><length>
	AllowedFast ID = 0x11 // <len=0005><id=17><index>
)

// BEP 10: the extension protocol (https://www.bittorrent.org/beps/bep_0010.html).
const (
	Extended ID = 20 // <len=0002+X><id=20><ext id><payload>
)

// KeepAlive is the ID ParseMessage reports for a zero-length frame
// (<len=0000>). It is not a wire value: a keep-alive has no ID byte, and a
// frame that does carry 0xFF is rejected as unknown. No BEP assigns 0xFF.
const KeepAlive ID = 0xFF

// BlockSize is the largest block a peer may request or send (BEP 3: "All
// current implementations use 2^14 (16 kiB), and close connections which
// request an amount greater than that").
const BlockSize = 16 * 1024

var idNames = [...]string{
	Choke:         "choke",
	Unchoke:       "unchoke",
	Interested:    "interested",
	NotInterested: "not interested",
	Have:          "have",
	Bitfield:      "bitfield",
	Request:       "request",
	Piece:         "piece",
	Cancel:        "cancel",
	Port:          "port",
	Suggest:       "suggest piece",
	HaveAll:       "have all",
	HaveNone:      "have none",
	Reject:        "reject request",
	AllowedFast:   "allowed fast",
	Extended:      "extended",
}

// String returns the message's name as the BEPs spell it, or "ID(n)" for an
// ID no BEP here defines.
func (id ID) String() string {
	if id == KeepAlive {
		return "keep-alive"
	}
	if int(id) < len(idNames) && idNames[id] != "" {
		return idNames[id]
	}
	return "ID(" + strconv.Itoa(int(id)) + ")"
}

// Message is one decoded frame. Only the fields its ID carries are set:
//
//	Have, Suggest, AllowedFast   Index
//	Request, Cancel, Reject      Index, Begin, Length
//	Piece                        Index, Begin, Length (= len(Payload)), Payload (the block)
//	Bitfield                     Payload (the bitfield, high bit first)
//	Port                         Port
//	Extended                     ExtID, Payload (the bencoded dictionary and any trailing data)
//
// A decoded Payload aliases the read buffer given to ParseMessage, so it is
// valid only until the caller reuses that buffer; its capacity ends with the
// frame, so appending to it cannot overwrite the next frame.
type Message struct {
	ID      ID
	Index   uint32
	Begin   uint32
	Length  uint32
	Payload []byte
	Port    uint16
	ExtID   uint8
}

// String renders the message for logs without its payload bytes.
func (m Message) String() string {
	switch m.ID {
	case Have, Suggest, AllowedFast:
		return m.ID.String() + " " + u32(m.Index)
	case Request, Cancel, Reject, Piece:
		return m.ID.String() + " " + u32(m.Index) + ":" + u32(m.Begin) + "+" + u32(m.Length)
	case Bitfield:
		return "bitfield of " + strconv.Itoa(len(m.Payload)) + " bytes"
	case Port:
		return "port " + strconv.Itoa(int(m.Port))
	case Extended:
		return "extended " + strconv.Itoa(int(m.ExtID)) + " of " + strconv.Itoa(len(m.Payload)) + " bytes"
	}
	return m.ID.String()
}

func u32(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
