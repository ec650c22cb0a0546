"""Idle cost and wake-ups (issue 13, item 1): what peers that send nothing cost the
server, and how many poll() wake-ups one download takes.

- idle TLS: N TCP connections to the HTTPS port that never send a ClientHello; once
  accepted, held for 9 s (the TLS handshake timeout, 10 s, closes them right after):
  server CPU from /proc/<pid>/stat and poll()/ppoll() calls counted by `strace -c`;
- one paced whole-body download (srvtest --pace slow, 1400 B / 20 ms) and one Range
  download (59 x 4 KiB keep-alive requests, 20 ms apart like a quick device): poll
  calls and send calls while it runs, per KiB served.

Server: tests/e2e/srvtest (the server code of sonota). Everything on 127.0.0.1.
"""
import os
import re
import signal
import socket
import subprocess
import time

import blib
from blib import BenchError, log

STRACE_SYSCALLS = "poll,ppoll,write,sendto,sendmsg,writev"


class Strace:
    """`strace -f -c` attached to pid; stop() returns {syscall: calls}."""

    def __init__(self, pid, d, tag):
        self.out = os.path.join(d, "strace-%s.txt" % tag)
        self.proc = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=" + STRACE_SYSCALLS,
                                      "-o", self.out, "-p", str(pid)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # attached (strace -p needs a moment)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        calls = {}
        try:
            with open(self.out) as f:
                for line in f:
                    m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
                    if m:
                        calls[m.group(2)] = int(m.group(1))
        except OSError:
            pass
        return calls


def _sends(calls):
    return sum(calls.get(k, 0) for k in ("write", "sendto", "sendmsg", "writev"))


def _polls(calls):
    return calls.get("poll", 0) + calls.get("ppoll", 0)


def idle_tls(bins, d, images, n, hold):
    srv = blib.Srvtest(bins, d, images, tag="idle", extra=("--max-conns-per-ip", "-1"))
    try:
        time.sleep(0.5)
        socks = []
        for i in range(n):
            s = socket.socket()
            s.bind(("127.0.%d.%d" % (1 + i // 250, 2 + i % 250), 0))
            s.connect(("127.0.0.1", srv.https))
            socks.append(s)
        # measured once they are accepted: what holding them costs, until just before
        # the 10 s handshake timeout closes them
        time.sleep(0.2)
        st = Strace(srv.pid, d, "idle")
        cpu0, t0 = srv.cpu_s(), time.monotonic()
        end = t0 + hold
        while time.monotonic() < end:
            time.sleep(0.05)
        cpu1, t1 = srv.cpu_s(), time.monotonic()
        calls = st.stop()
        closed = 0
        for s in socks:
            s.settimeout(0.01)
            try:
                closed += s.recv(1) == b""
            except (socket.timeout, OSError):
                pass
            s.close()
        wall = t1 - t0
        cpu = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
        return {"connections": n, "hold_s": wall, "cpu_s": cpu,
                "cpu_pct": None if cpu is None else cpu / wall,
                "polls": _polls(calls), "polls_per_s": _polls(calls) / wall,
                "closed_by_server": closed}
    finally:
        srv.stop()


def _recv_reply(s, buf):
    """One HTTP reply (head + Content-Length body); returns (body, rest)."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise BenchError("server closed mid-head")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            raise BenchError("server closed mid-body")
        rest += d
    return rest[:n], rest[n:]


def download(bins, d, images, mode):
    pace = "slow" if mode == "paced" else "fast"
    srv = blib.Srvtest(bins, d, images, pace=pace, cloud=False, tag="dl-" + mode)
    try:
        time.sleep(0.3)
        size = os.path.getsize(images[blib.NAME_U1])
        st = Strace(srv.pid, d, mode)
        t0 = time.monotonic()
        s = socket.create_connection(("127.0.0.1", srv.http), timeout=30)
        got = 0
        if mode == "paced":
            s.sendall(b"GET /ota/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                      % blib.NAME_U1.encode())
            body, _ = _recv_reply(s, b"")
            got = len(body)
        else:
            rest = b""
            for off in range(0, size, blib.CHUNK):
                last = min(off + blib.CHUNK, size) - 1
                s.sendall(b"GET /ota/%s HTTP/1.1\r\nHost: x\r\nRange: bytes=%d-%d\r\n\r\n"
                          % (blib.NAME_U1.encode(), off, last))
                body, rest = _recv_reply(s, rest)
                got += len(body)
                time.sleep(0.02)
        wall = time.monotonic() - t0
        s.close()
        time.sleep(0.3)  # the server notices the close
        calls = st.stop()
        if got != size:
            raise BenchError("%s download: %d of %d bytes" % (mode, got, size))
        polls, sends = _polls(calls), _sends(calls)
        return {"mode": mode, "bytes": got, "wall_s": wall, "polls": polls, "sends": sends,
                "polls_per_kib": polls / (got / 1024.0),
                "polls_per_send": polls / sends if sends else None}
    finally:
        srv.stop()


def run(bins, quick, results):
    log("\n== Idle connections and wake-ups ==")
    if subprocess.run(["strace", "-V"], capture_output=True).returncode != 0:
        raise BenchError("strace is needed (scripts/deps.sh)")
    blib.raise_fd_limit()
    d = blib.workdir(need_mb=8)
    try:
        images = blib.make_images(bins, d)
        n, hold = (20, 3.0) if quick else (100, 9.0)
        it = idle_tls(bins, d, images, n, hold)
        log("idle TLS: %d connections without a ClientHello for %.1f s: server CPU %s s "
            "(%s of one core), %d poll calls (%.0f/s)" % (
                it["connections"], it["hold_s"], blib.fmt_s(it["cpu_s"]),
                blib.fmt_pct(it["cpu_pct"]), it["polls"], it["polls_per_s"]))
        dls = []
        for mode in ("paced", "range"):
            r = download(bins, d, images, mode)
            dls.append(r)
            log("%s download of %d bytes in %.2f s: %d poll calls, %d sends, %.2f polls per "
                "KiB, %s polls per send" % (mode, r["bytes"], r["wall_s"], r["polls"],
                                             r["sends"], r["polls_per_kib"],
                                             blib.fmt_s(r["polls_per_send"], 1)))
        results["idle"] = {"idle_tls": it, "downloads": dls}
    finally:
        if not os.environ.get("BENCH_KEEP"):
            blib.rm_tree(d)
