// Package dht is the Mainline DHT (BEP 5): a node that answers other
// nodes' queries and runs lookups of its own, so that a torrent with no
// working tracker (a magnet link with only an info-hash) still finds
// peers. It runs on the aio loop as tasks, like tracker/ and lsd/: no
// goroutines, channels, locks or net.Conn.
//
// # The protocol in one page
//
// Nodes and info-hashes share one 160-bit id space; the distance between
// two ids is their XOR. Each node keeps a routing table that knows many
// nodes near its own id and few far away. To find the peers of a torrent,
// a node asks the nodes it knows closest to the info-hash, which answer
// with peers they were told of ("values") or with nodes closer still
// ("nodes"); the asker repeats toward the closest until no closer node
// turns up, then announces itself to the closest ones. Messages are KRPC:
// one bencoded dictionary per UDP datagram, four queries:
//
//	ping           are you there?          → id
//	find_node      who is near target?     → id, nodes
//	get_peers      who has info_hash?      → id, token, values and/or nodes
//	announce_peer  I have info_hash (token from get_peers) → id
//
// # Architecture
//
//	bencode.go      a bounded bencode scanner and appenders (no reflection)
//	compact.go      ID, XOR distance, NodeInfo, compact node and peer forms
//	krpc.go         Msg and Decode: every field typed, every size checked
//	krpc_encode.go  Msg.Encode, canonical (Decode∘Encode is the identity)
//	table.go        Table: the routing table, a pure state machine on a clock
//	                passed in (good/questionable/bad, splits, replacements)
//	token.go        tokens: HMAC-SHA1 of the asker's IP and the info-hash
//	peerstore.go    the announces we keep for others: bounded, expiring
//	ratelimit.go    a token bucket per source IP, bounded in addresses
//	node.go         Node: Config, Run/Serve/HandleDatagram, queries in flight
//	server.go       answering the four queries
//	lookup.go       iterative lookups: FindNode, GetPeers, Announce, Bootstrap
//	state.go        State: the id and table saved between runs
//
// # How a Node runs
//
// A Node has three tasks. The reader (Run only) reads datagrams and hands
// each to HandleDatagram, which never blocks: a query is answered by
// queueing the reply; a reply is matched to the query in flight with its
// transaction id (and the address it was sent to; anything else is
// dropped). The sender is the only task that writes to the socket: every
// datagram goes through a bounded queue, and a full queue drops, as a
// full socket buffer would. The maintainer rotates the token secret,
// expires announces, pings questionable nodes and refreshes stale
// buckets, once a minute.
//
// Queries are started without blocking (startQuery): a timer on the loop
// ends each one with ErrQueryTimeout if no answer comes. A lookup is one
// task that keeps Alpha queries in flight and reads their answers from a
// queue; the whole lookup has a deadline (aio.Timeout). GetPeers calls
// found with each peer as soon as an answer names it.
//
// # Sharing the UDP port with uTP
//
// A KRPC message is a bencoded dictionary, so its first byte is 'd'; a
// uTP packet's first byte is its type and version (0x01, 0x11, 0x21,
// 0x31, 0x41). Whoever owns the socket reads it, gives the datagrams that
// start with 'd' to Node.HandleDatagram, and passes itself (anything with
// WriteTo) to Node.Serve as the transport. Run is the simple case: the
// node owns a socket of its own.
//
// # Hostile input
//
// Every datagram is untrusted. Decode refuses, with an error wrapping
// ErrMalformed, anything it cannot type: bad bencode, nesting deeper than
// 16, a key of the wrong type, a "nodes" string whose length is not a
// multiple of 26 (38 for "nodes6"), more than MaxValues peers, a datagram
// over MaxMessageSize. No length a peer writes is allocated before it is
// checked against the bytes actually received. Queries are rate-limited
// per source IP before they are looked at. A querier joins the table only
// after it answers a ping of ours, one ping per address at a time, and at
// most one entry per IP:port. Everything that grows with the network is
// capped: queries in flight, the send queue, the peer store, the
// addresses the rate limiter tracks, a lookup's candidates.
//
// # Wiring (for the session)
//
// Open a UDP socket, New a Node with the saved State's id, Run it as a
// task, Bootstrap from the saved nodes and the routers (names resolved on
// the executor), then for each public torrent call Announce every 15
// minutes (GetPeers when not seeding), with found putting each address on
// the session's peer queue (TryPut). Private torrents (BEP 27) never touch
// the DHT. Save Node.State on exit.
package dht
