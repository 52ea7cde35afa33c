#!/usr/bin/python3
"""One libtorrent peer on loopback, driven by aiotorrent's interop tests.

Run with Debian's /usr/bin/python3 (python3-libtorrent 2.0 is importable
only there). It seeds or downloads one torrent and speaks a small line
protocol on stdout, which the Go tests read:

    READY <listen port>          listening, torrent added and checked
    PROGRESS <ppm> <peers>       every --report seconds
    PEER <ip:port> <json>        one line per peer, when it is first seen
                                 connected (checked every 50 ms: a peer
                                 that serves a small torrent in a second
                                 is gone by the next PROGRESS) and again
                                 at exit: how it was found and how it is
                                 connected
    DHT_PEERS <seconds> <n>      with --magnet: a DHT node's get_peers answer
                                 named n peers, <seconds> after the start
    METADATA <seconds>           with --magnet: the info dictionary arrived
                                 (ut_metadata), <seconds> after the start
    DONE                         a download finished (then it exits 0,
                                 unless --stay)
    ERROR <text>                 then it exits 1

With --alerts, every libtorrent alert (peer_log included: each message
in and out, each choke decision) goes to stderr as

    ALERT <seconds> <alert type> <message>

which explains most interop failures; the Go tests print it when a test
fails.

With --magnet instead of --torrent it starts from a magnet link: READY
comes at once (there is nothing to check), and DHT_PEERS and METADATA
time the way to the torrent. "The start" is when the script began, after
libtorrent was imported and before its session was made; with --magnet
the loop wakes on each alert rather than every 50 ms, so the times are
those of the alerts to within a few milliseconds.

It never reaches outside 127.0.0.1: DHT, LSD, UPnP and NAT-PMP are off
unless a flag turns one on. --dht-node turns the DHT on with the settings
that make libtorrent accept loopback nodes, no bootstrap router (no DNS),
and the given nodes introduced with add_dht_node; the node shares the
listen port (UDP). It exits when stdin closes (the test died),
at --timeout, or as above.
"""

import argparse
import json
import os
import select
import sys
import time

import libtorrent as lt


def parse_args():
    p = argparse.ArgumentParser()
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--torrent", help=".torrent file")
    src.add_argument("--magnet", help="magnet link (metadata fetched from peers)")
    p.add_argument("--save", required=True, help="data directory")
    p.add_argument("--port", type=int, default=0, help="listen port (0: any)")
    p.add_argument("--seed", action="store_true", help="the data is complete: seed it")
    p.add_argument("--verify", action="store_true",
                   help="with --seed: check the whole data before READY (seed mode trusts it, "
                        "then hashes each piece the first time a peer asks for it)")
    p.add_argument("--connect", action="append", default=[], help="ip:port to dial (repeatable)")
    p.add_argument("--set", action="append", default=[],
                   help="a session setting, name=value (value parsed as JSON if it can be)")
    p.add_argument("--lsd", action="store_true", help="turn local service discovery on")
    p.add_argument("--dht-node", action="append", default=[],
                   help="ip:port of a DHT node to join through (repeatable); turns the DHT on")
    p.add_argument("--pex-only", action="store_true",
                   help="drop every peer not learnt through PEX from --connect's list after the first")
    p.add_argument("--choke-slots", type=int, default=0,
                   help="unchoke slots applied to loopback peers too (0: libtorrent's local class ignores them)")
    p.add_argument("--alerts", action="store_true",
                   help="every alert category (peer_log too), each alert to stderr")
    p.add_argument("--upload-rate", type=int, default=0,
                   help="upload limit in bytes per second, applied to loopback peers too (0: none)")
    p.add_argument("--stay", action="store_true", help="keep seeding after a download finished")
    p.add_argument("--timeout", type=float, default=120, help="give up after this many seconds")
    p.add_argument("--report", type=float, default=1.0, help="seconds between PROGRESS lines")
    return p.parse_args()


def value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def settings(args):
    s = {
        "listen_interfaces": "127.0.0.1:%d" % args.port,
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": args.lsd,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.peer_notification,
        "user_agent": "lt-interop",
    }
    if args.alerts:
        s["alert_mask"] = lt.alert.category_t.all_categories
        # A transfer of a few MiB logs tens of thousands of peer messages;
        # the default queue of 2000 drops the excess between two pops.
        s["alert_queue_size"] = 1000000
    if args.magnet:
        s["alert_mask"] |= lt.alert.category_t.dht_notification
    if args.dht_node:
        # libtorrent refuses loopback DHT nodes by default; these let it
        # run a DHT on 127.0.0.1 (issue 13). A zero upload limit crashes
        # 2.0.8.
        s.update({
            "enable_dht": True,
            "dht_bootstrap_nodes": "",
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_block_ratelimit": 10000,
            "dht_prefer_verified_node_ids": False,
            "dht_upload_rate_limit": 1000000,
        })
    if args.lsd:
        # Announce at once, and over loopback (the only interface a test may use).
        s["local_service_announce_interval"] = 1
    for kv in args.set:
        name, _, v = kv.partition("=")
        s[name] = value(v)
    return s


def say(*words):
    print(*words, flush=True)


def flag(name):
    """A peer_info flag by name, 0 if this libtorrent's binding lacks it."""
    return getattr(lt.peer_info, name, 0)


# The 2.0 Python bindings do not export peer_info.utp_socket; it is bit 17
# of the flags (include/libtorrent/peer_info.hpp).
UTP_SOCKET = getattr(lt.peer_info, "utp_socket", 1 << 17)


def peer_json(p):
    src, flags = p.source, p.flags
    return json.dumps({
        "client": p.client.decode("utf-8", "replace") if isinstance(p.client, bytes) else str(p.client),
        "tracker": bool(src & flag("tracker")),
        "dht": bool(src & flag("dht")),
        "pex": bool(src & flag("pex")),
        "lsd": bool(src & flag("lsd")),
        "incoming": not bool(flags & flag("outgoing_connection")),
        "seed": bool(flags & flag("seed")),
        "utp": bool(flags & UTP_SOCKET),
        "rc4": bool(flags & flag("rc4_encrypted")),
        "plaintext_encrypted": bool(flags & flag("plaintext_encrypted")),
        "downloaded": p.total_download,
        "uploaded": p.total_upload,
    }, sort_keys=True)


def main():
    args = parse_args()
    ses = lt.session(settings(args))
    if args.choke_slots > 0:
        # libtorrent puts 127/8 in its "local" peer class, which ignores
        # unchoke slots; a test about choking needs them applied.
        ses.apply_settings({"unchoke_slots_limit": args.choke_slots})
        local = ses.get_peer_class(lt.session.local_peer_class_id)
        local["ignore_unchoke_slots"] = False
        ses.set_peer_class(lt.session.local_peer_class_id, local)
    if args.upload_rate > 0:
        # The local class is also exempt from the global rate limits.
        for cid in (lt.session.global_peer_class_id, lt.session.local_peer_class_id):
            pc = ses.get_peer_class(cid)
            pc["upload_limit"] = args.upload_rate
            ses.set_peer_class(cid, pc)
    if args.magnet:
        params = lt.parse_magnet_uri(args.magnet)
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    if args.seed and not args.verify:
        params.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(params)
    for addr in args.dht_node:
        host, _, port = addr.rpartition(":")
        ses.add_dht_node((host.strip("[]"), int(port)))

    deadline = time.monotonic() + args.timeout
    while h.status().state in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
        if time.monotonic() > deadline:
            say("ERROR checking took too long")
            return 1
        time.sleep(0.05)
    say("READY", ses.listen_port())
    for addr in args.connect:
        host, _, port = addr.rpartition(":")
        h.connect_peer((host.strip("[]"), int(port)))

    next_report = 0.0
    finished = False
    seen = set()  # peers already reported
    while time.monotonic() < deadline:
        for a in ses.pop_alerts():
            if args.alerts:
                log_alert(a)
            if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                say("ERROR", a.message())
                return 1
            if args.magnet and isinstance(a, lt.dht_reply_alert) and a.num_peers > 0:
                say("DHT_PEERS", "%.4f" % (time.monotonic() - START), a.num_peers)
            if args.magnet and isinstance(a, lt.metadata_received_alert):
                say("METADATA", "%.4f" % (time.monotonic() - START))
        st = h.status()
        now = time.monotonic()
        if now >= next_report:
            say("PROGRESS", st.progress_ppm, st.num_peers)
            next_report = now + args.report
        report_peers(h, seen)
        if not args.seed and not finished and st.is_seeding:
            finished = True
            report_peers(h)
            say("DONE")
            if not args.stay:
                return 0
        # stdin closing means the test process is gone.
        wait = 0.05
        if args.magnet:
            ses.wait_for_alert(50)
            wait = 0
        r, _, _ = select.select([sys.stdin], [], [], wait)
        if r and not os.read(sys.stdin.fileno(), 4096):
            report_peers(h)
            return 0
    report_peers(h)
    say("ERROR timeout")
    return 1


START = time.monotonic()


def log_alert(a):
    print("ALERT %.3f %s %s" % (time.monotonic() - START, type(a).__name__, a.message()), file=sys.stderr)


def report_peers(h, seen=None):
    """Prints a PEER line for each connected peer not in seen (all of them
    if seen is None), and adds it there."""
    for p in h.get_peer_info():
        addr = "%s:%d" % (p.ip[0], p.ip[1])
        if seen is not None:
            if addr in seen:
                continue
            seen.add(addr)
        say("PEER", addr, peer_json(p))


if __name__ == "__main__":
    sys.exit(main())
