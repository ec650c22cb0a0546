#!/usr/bin/env bash
# Hostile TLS clients against the fake cloud's TLS port (issue 6): random bytes, a
# ClientHello cut in half, a record header announcing 16 KB and then silence, an
# oversized record, SSLv2 and plain HTTP on the TLS port, alerts and heartbeats before
# the handshake, a silent client after the handshake, a storm of broken handshakes,
# and the per-address limit. Each ends in a prompt close (or the 10 s handshake
# timeout, or 408 after it), no HTTP reply is ever sent in clear, no descriptor is
# leaked, and a well-behaved client is served afterwards. 127.0.0.1 only.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"

hl_start main
fd0=$(hl_fds)
pass "srvtest started: TLS :$S ($fd0 descriptors open)"

python3 - "$T" "$S" <<'PY' || fail "hostile TLS checks"
import random, ssl, struct, sys, time
sys.path.insert(0, sys.argv[1])
from hl import *
S = int(sys.argv[2])

def client_hello(version=ssl.TLSVersion.TLSv1_2):
    """A real ClientHello, made by Python's OpenSSL without a socket."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

def refused_fast(name, raw, src="127.0.0.2", hello_first=False):
    """The server closes well before the handshake timeout; at most a TLS alert back
    (hello_first: the server's handshake flight for a valid first hello, then a close)."""
    s = conn(S, src)
    t0 = time.time()
    send(s, raw)
    r, end = rx(s, 8)
    took = time.time() - t0
    s.close()
    assert end != "OPEN", "%s: still open after 8 s" % name
    assert took < 3 * SLOW, "%s: closed only after %.1f s" % (name, took)
    if hello_first:
        assert r[:1] == b"\x16", "%s: answered %r" % (name, r[:40])
    else:
        assert r == b"" or (r[0] == 0x15 and len(r) <= 7), "%s: answered %r" % (name, r[:40])
    assert b"HTTP" not in r
    say("%-44s closed after %.2f s, %s" % (name, took, "alert %d" % r[-1] if r else "no bytes"))

rnd = random.Random(6)
for n in (5, 100, 5000, 20000):
    junk = bytearray(rnd.getrandbits(8) for _ in range(n))
    junk[0] = 0x42                   # not a record type: nothing more to wait for
    refused_fast("%d random bytes" % n, bytes(junk))
hello = client_hello()
refused_fast("handshake record of random bytes", b"\x16\x03\x01\x00\x40" + bytes(rnd.getrandbits(8) for _ in range(64)))
refused_fast("record header announcing 18 KB (overflow)", b"\x16\x03\x01\x48\x01" + b"\x00" * 64)
refused_fast("SSLv2 ClientHello", bytes.fromhex("802e0100020015000000100700c0050080030080010080080080060040040080020080") + bytes(16))
refused_fast("plain HTTP request", b"POST /dispatch/device HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
refused_fast("GET with WebSocket upgrade in clear", b"GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")
refused_fast("alert before any hello", b"\x15\x03\x01\x00\x02\x02\x28")
refused_fast("heartbeat record before the hello", b"\x18\x03\x01\x00\x03\x01\x40\x00")
refused_fast("ChangeCipherSpec before the hello", b"\x14\x03\x01\x00\x01\x01")
refused_fast("ClientHello with a bad inner length", hello[:5] + b"\x01\xff\xff\xff" + hello[9:])
refused_fast("a ClientHello, then a garbled record", hello + b"\x16\x03\x01\x00\x04\x01\x00\x00\xff",
             hello_first=True)

# Slow handshakes are cut by the 10 s TLS handshake timeout (SRV_TLS_HANDSHAKE_TIMEOUT_S).
def half_hello():
    s = conn(S, "127.0.0.3", timeout=30)
    send(s, hello[:len(hello) // 2])
    took, r = closes_within(s, 25)
    check_window("ClientHello cut in half", took, 10)
    assert r == b"" or r[0] == 0x15, r[:20]

def announced_16k():
    s = conn(S, "127.0.0.3", timeout=30)
    send(s, b"\x16\x03\x01\x40\x00")      # a 16 KB handshake record ... that never comes
    took, r = closes_within(s, 25)
    check_window("record header claiming 16 KB, then silence", took, 10)

def short_garbage():
    s = conn(S, "127.0.0.3", timeout=30)
    send(s, b"\x42\x17\x99")          # less than a record header: OpenSSL waits for more
    took, r = closes_within(s, 25)
    check_window("3 random bytes, then silence", took, 10)

def silent_tcp():
    s = conn(S, "127.0.0.3", timeout=30)
    took, r = closes_within(s, 25)
    check_window("TCP connection without a ClientHello", took, 10)

def trickle_hello():
    s = conn(S, "127.0.0.3", timeout=30)
    t0 = time.time()
    for b in hello:                        # one byte every 0.3 s: ~60 s for a whole hello
        if not send(s, bytes([b])):
            break
        d, end = rx(s, 0.3)
        if end != "OPEN":
            break
    check_window("ClientHello trickled 1 byte / 0.3 s", time.time() - t0, 10)

def silent_after_handshake():
    t = tls(S, "127.0.0.3", timeout=30)    # handshake done, then no request
    took, r = closes_within(t, 25)
    check_window("TLS up, no request (head timeout)", took, 10)
    assert status(r) == 408, r[:40]

timed = [in_thread(f) for f in (half_hello, announced_16k, short_garbage, silent_tcp,
                                 trickle_hello, silent_after_handshake)]

# A storm of broken handshakes at once: all closed, nothing left behind (fds checked below).
socks = []
for i in range(120):
    s = conn(S, "127.0.0.%d" % (20 + i // 12))
    kind = i % 4
    if kind == 0:
        send(s, hello[:7])
    elif kind == 1:
        send(s, bytes(rnd.getrandbits(8) for _ in range(50)))
    elif kind == 2:
        send(s, hello)                     # then gone before the ServerHello is read
    socks.append(s)
for s in socks:
    s.close()
say("storm: 120 connections with cut, random or abandoned handshakes, all closed by the client")

# Per-address limit on the TLS port: 16 handshakes held, the 17th closed before TLS.
held = [tls(S, "127.0.0.8") for _ in range(16)]
x = conn(S, "127.0.0.8")
send(x, hello)
r, end = rx(x, 3)
assert r == b"" and end != "OPEN", "17th TLS connection: %r %s" % (r[:20], end)
for t in held:
    t.close()
time.sleep(0.3)
t = tls(S, "127.0.0.8")
t.close()
say("per-address limit on the TLS port: 16 handshakes held, the 17th closed before TLS; slots given back")

for th in timed:
    th.join(60 * SLOW)
PY
pass "random bytes, cut and oversized records, SSLv2, clear HTTP, alerts: closed at once; slow handshakes cut at 10 s; 408 after a silent handshake"

hl_wait_ev main 'TLS_CLIENT.*error=[1-9].*handshake failed: we sent alert'
hl_wait_ev main 'REJECTED.*error=408 .*request head not complete'
hl_wait_ev main 'REJECTED.*error=503 .*too many connections from 127.0.0.8'
grep -q 'TLS_CLIENT.*error=0 ' "$T/main.ev" || fail "no successful handshake was reported"
pass "events: TLS_CLIENT with the alert we sent, 408 over TLS, 503 for the 17th connection"

hl_slots_free
hl_healthy "the hostile TLS clients"
sleep 1
fd1=$(hl_fds)
[ "$fd1" -le $((fd0 + 2)) ] || { ls -l "/proc/$HL_PID/fd" >&2; fail "descriptors leaked: $fd0 before, $fd1 after"; }
pass "no descriptor leaked: $fd0 open before, $fd1 after the storm"
hl_stop main
