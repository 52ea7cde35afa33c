// Package utp is uTP, the uTorrent transport protocol (BEP 29): a reliable,
// ordered byte stream over UDP datagrams with LEDBAT congestion control,
// so BitTorrent traffic yields to everything else on a congested link.
//
// # Architecture
//
// Everything runs on the aio loop thread, with no goroutine, channel or
// lock, and no task of its own per connection:
//
//	 UDP port ──► Socket.Receive ──► decodePacket ──► Conn.handle
//	(recvmmsg:        │ (one per       (packet.go)     acks, SACK, loss,
//	 readLoop, or     │  datagram)                     reorder buffer
//	 the DHT's        ▼                                (conn_recv.go)
//	 demultiplexer) Socket.Flush ──► Conn.flush ──► trySend / STATE
//	            (one per batch)                 (conn_send.go)
//	                                               │
//	 Conn.Writev ──► queueData ──► trySend ────────┴──► Socket.send ──► batch
//	 Conn.Read   ◄── byteRing  ◄── deliver                              │
//	                                    writeOut (end of Flush, full, ◄─┘
//	                                    or before Writev etc. return)
//	                                    ──► BatchTransport.SendBatch
//	                                        (sendmmsg, UDP GSO)
//
// A Socket owns the connections on one port, keyed by remote address and
// receive id. Datagrams reach it through Receive, either from the task
// Listen starts, which reads the socket in batches (up to 64 datagrams
// per recvmmsg, then one Flush), or from whoever else reads the port: the
// DHT shares it, and IsUTP tells uTP from KRPC by the first byte. Flush
// then sends one ack per connection per batch, together with the data
// those acks let out. Sending never waits: Transport.SendTo sends or
// fails, and a failed send is a lost packet that retransmission repairs,
// so acks and retransmissions go out from packet handling and timers
// directly. A Transport that is also a BatchTransport gets datagrams
// copied into a batch (sendbatch.go) and handed over in one call: at the
// end of each Flush, when the batch is full, and before any call of the
// application (Writev, Read, Dial, Close) returns, so no datagram waits
// for a later event. On Linux that call is one sendmmsg, and a run of
// full-size DATA to one peer is one UDP GSO send: one trip through the
// kernel for a window of packets. Tasks park only in the application's calls: Read until bytes
// arrive, Writev while the send buffer is full, Dial until the SYN is
// answered, Accept until a connection is established.
//
// One timer per Socket (every 50 ms, while it has connections) runs the
// connections' retransmission timeouts, keep-alives and half-open limits,
// so no timer is armed per packet.
//
// # Connections
//
// The dialer picks a receive id r and sends with r+1; the SYN carries r
// and the acceptor does the reverse (BEP 29). A SYN is the only packet
// that creates state, and only up to Config.MaxHalfOpen connections that
// have not been heard from since; a half-open connection is offered to
// Accept only when its dialer sends again, which a BitTorrent dialer does
// at once (the handshake) and a spoofed SYN never does.
//
// Outgoing packets live in a ring indexed by sequence number until they
// are cumulatively acked; incoming packets that arrive after a gap wait in
// a reorder ring of the same size. Loss is found by three duplicate acks,
// by three selectively acked packets sent after an unacked one, or by the
// retransmission timeout (RFC 6298 from the packets' send times, doubling
// on each expiry). Close sends a FIN after what was written; the
// connection leaves its Socket when the FIN is acked. RESET ends a
// connection at once in both directions.
//
// # Congestion control
//
// ledbat.go holds LEDBAT as a pure controller: the window grows by
// gain·off_target/target·bytes_acked/cwnd, where off_target is how far
// the queueing delay (the one-way delay sample from timestamp_difference
// minus the base delay, the minimum over a few one-minute buckets) is
// below the 100 ms target. It halves on loss and restarts from two packets
// after a timeout. It starts in slow start, which ends at the first loss
// or once the queueing delay reaches half the target.
//
// # Hostile input
//
// Every datagram is decoded without allocation and with every length
// checked; packets whose ack_nr is for something never sent, or whose
// seq_nr is beyond the reorder window, are dropped whole, and selective
// ack bits for packets never sent are ignored. Malformed datagrams and
// packets for unknown connections are counted in Stats.
package utp
