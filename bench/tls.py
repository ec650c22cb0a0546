"""TLS: full handshakes per second on sonota's cloud port for the old firmware's profile
(TLS 1.1, AES128-SHA, RSA key exchange: PROTOCOL.md §2) and a TLS 1.3 client, with
`openssl s_time -new` (a new session every connection). Then the server CPU cost of one
handshake against the cost of serving one intermediate image (59 Range requests of
4 KiB on one keep-alive connection, as a stock device does, §1.5) and one whole body.
"""
import shutil
import socket
import subprocess
import time

import blib
from blib import fmt_s, log

PROFILES = [
    ("TLS 1.1 AES128-SHA", ["-tls1_1", "-cipher", "AES128-SHA:@SECLEVEL=0"], "TLSv1.1 AES128-SHA"),
    ("TLS 1.2 default", ["-tls1_2"], "TLSv1.2"),
    ("TLS 1.3 default", ["-tls1_3"], "TLSv1.3"),
]


def _handshakes(srv, args, seconds, expect):
    before = len(srv.events("TLS_CLIENT"))
    c0 = srv.cpu_s()
    t0 = time.monotonic()
    r = subprocess.run(["openssl", "s_time", "-connect", "127.0.0.1:%d" % srv.https, "-new",
                        "-time", str(seconds)] + args, capture_output=True, text=True,
                       timeout=seconds + 30)
    wall = time.monotonic() - t0
    c1 = srv.cpu_s()
    time.sleep(0.2)   # the last events
    evs = srv.events("TLS_CLIENT")[before:]
    good = [e for e in evs if " error=0 " in e and expect in e]
    bad = len(evs) - len(good)
    # The rate from the server's own event times (first to last handshake), so the
    # client's start-up does not count.
    ts = [float(e.split()[2][2:]) for e in good if e.split()[2].startswith("t=")]
    span = ts[-1] - ts[0] if len(ts) > 1 else 0
    return {"handshakes": len(good), "other": bad, "wall_s": wall, "span_s": span,
            "per_s": (len(ts) - 1) / span if span > 0 else None,
            "srv_cpu_s": None if c0 is None or c1 is None else c1 - c0,
            "srv_cpu_ms_each": None if not good or c0 is None or c1 is None
            else (c1 - c0) * 1000.0 / len(good),
            "s_time_rc": r.returncode}


def _recv_reply(s, buf):
    """One HTTP reply with Content-Length; returns (body_len, leftover)."""
    while True:
        h = buf.find(b"\r\n\r\n")
        if h >= 0:
            cl = 0
            for line in buf[:h].split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    cl = int(v)
            if len(buf) >= h + 4 + cl:
                return cl, buf[h + 4 + cl:]
        d = s.recv(65536)
        if not d:
            raise blib.BenchError("server closed the connection mid-reply")
        buf += d


def _serve_images(srv, n, whole):
    """Downloads the intermediate image n times; server CPU and wall per image."""
    size = blib.USER_SIZE
    c0 = srv.cpu_s()
    t0 = time.monotonic()
    for _ in range(n):
        with socket.create_connection(("127.0.0.1", srv.http), timeout=10) as s:
            buf, got = b"", 0
            if whole:
                s.sendall(b"GET /ota/%s HTTP/1.1\r\nHost: dl.itead.cn\r\nUser-Agent: "
                          b"itead-device\r\n\r\n" % blib.NAME_U2.encode())
                got, buf = _recv_reply(s, buf)
            else:
                off = 0
                while off < size:
                    last = min(off + blib.CHUNK - 1, size - 1)
                    s.sendall(b"GET /ota/%s?deviceid=1000000000&ts=1&sign=0 HTTP/1.1\r\n"
                              b"Host: dl.itead.cn\r\nRange: bytes=%d-%d\r\n"
                              b"User-Agent: itead-device\r\n\r\n"
                              % (blib.NAME_U2.encode(), off, last))
                    cl, buf = _recv_reply(s, buf)
                    got += cl
                    off = last + 1
            if got != size:
                raise blib.BenchError("image served with %d bytes, expected %d" % (got, size))
    wall = time.monotonic() - t0
    c1 = srv.cpu_s()
    return {"images": n, "wall_ms_each": wall * 1000.0 / n,
            "srv_cpu_ms_each": None if c0 is None or c1 is None else (c1 - c0) * 1000.0 / n}


def run(bins, quick, results):
    log("\n== TLS handshakes and the cost of one image (srvtest = src/sonota/server.c) ==")
    if not shutil.which("openssl"):
        raise blib.BenchError("openssl (the command) is not installed")
    seconds = 1 if quick else 5
    n_img = 50 if quick else 300
    d = blib.workdir(prefer_shm=False)
    imgs = blib.make_images(bins, d)
    srv = blib.Srvtest(bins, d, imgs, pace="fast", tag="tls", max_seconds=600)
    out = {"seconds": seconds, "profiles": []}
    try:
        for name, args, expect in PROFILES:
            r = _handshakes(srv, args, seconds, expect)
            r["profile"] = name
            out["profiles"].append(r)
            log("  %-20s %6d handshakes in %5.2f s = %7.1f /s; server CPU %s ms each%s" % (
                name, r["handshakes"], r["span_s"], r["per_s"] or 0,
                fmt_s(r["srv_cpu_ms_each"], 3),
                "" if not r["other"] else " (%d other TLS events)" % r["other"]))
        rng = _serve_images(srv, n_img, whole=False)
        whole = _serve_images(srv, n_img, whole=True)
    finally:
        srv.stop()
        blib.rm_tree(d)
    out["image_range"] = rng
    out["image_whole"] = whole
    log("  one %d-byte image by 4 KiB Range (59 requests, keep-alive): server CPU %s ms, "
        "%s ms wall" % (blib.USER_SIZE, fmt_s(rng["srv_cpu_ms_each"], 3),
                        fmt_s(rng["wall_ms_each"], 2)))
    log("  the same image as one whole body: server CPU %s ms, %s ms wall"
        % (fmt_s(whole["srv_cpu_ms_each"], 3), fmt_s(whole["wall_ms_each"], 2)))
    base = rng["srv_cpu_ms_each"]
    for p in out["profiles"]:
        if base and p["srv_cpu_ms_each"]:
            p["vs_range_image"] = p["srv_cpu_ms_each"] / base
            log("  %-20s one handshake = %.2fx the server CPU of serving one image by Range"
                % (p["profile"], p["vs_range_image"]))
    log("  (a stock device makes 2 handshakes per session: dispatch and WebSocket, §1.3-1.4;"
        " server CPU is from /proc, 10 ms ticks, over the whole run)")
    results["tls"] = out
