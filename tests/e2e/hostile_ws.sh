#!/usr/bin/env bash
# A hostile "device" on the fake cloud's WebSocket (issue 6, PROTOCOL.md §1.4): bad
# handshakes, fragmented, oversized (64-bit length), binary, unmasked, reserved and
# malformed frames; non-object, deeply nested and oversized JSON, wrong types in
# every field, acks with unknown sequences, a second register, another device's
# register, wrong apikeys, unexpected actions, floods and a device that never
# registers. Protocol errors end in the close code RFC 6455 gives (1002, 1003, 1008,
# 1009) with a REJECTED event; bad messages are ignored without an answer; the
# session and other devices carry on. 127.0.0.1 only.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"

hl_start main
fd0=$(hl_fds)
pass "srvtest started: TLS :$S, plain cloud :$L"

python3 - "$T" "$H" "$S" "$L" <<'PY' || fail "hostile WebSocket checks"
import json, struct, sys, time
sys.path.insert(0, sys.argv[1])
from hl import *
H, S, L = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
REG = json.dumps({"userAgent": "device", "apikey": FACTORY, "deviceid": DEVID,
                  "action": "register", "version": 2, "romVersion": "1.5.5", "model": MODEL, "ts": 1})

# ---- timeouts, in a thread: a WebSocket that never registers is closed (1008) at 30 s ----
def never_registers():
    s = ws_open(S, src="127.0.0.3")
    took, data = closes_within(s, 45)
    check_window("WebSocket that never registers", took, 30)
    fr = parse_frames(data)
    assert close_code(fr) == 1008, fr
timed = in_thread(never_registers)

# ---- the handshake itself ----
def handshake(raw, port=L):
    s = conn(port)
    send(s, raw)
    r, end = rx(s, 3)
    s.close()
    return r, end
base = ("GET /api/ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % KEY)
hs_cases = [
    ("no Sec-WebSocket-Key", base.replace("Sec-WebSocket-Key: %s\r\n" % KEY, ""), 400),
    ("a key that is not 16 bytes of base64", base.replace(KEY, "short=="), 400),
    ("two keys", base.replace("Sec-WebSocket-Version", "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version" % KEY), 400),
    ("version 8", base.replace("Version: 13", "Version: 8"), 426),
    ("no version", base.replace("Sec-WebSocket-Version: 13\r\n", ""), 426),
    ("Upgrade: h2c", base.replace("Upgrade: websocket", "Upgrade: h2c"), 400),
    ("no Connection: upgrade", base.replace("Connection: upgrade", "Connection: keep-alive"), 400),
    ("POST with upgrade", base.replace("GET", "POST", 1), 400),
    ("HTTP/1.0 upgrade", base.replace("HTTP/1.1", "HTTP/1.0", 1), 400),
    ("upgrade outside /api/ws", base.replace("/api/ws", "/api/other"), 404),
    ("upgrade to /api/ws/../ws", base.replace("/api/ws", "/api/ws/../ws"), 404),
    ("/api/ws without Upgrade", "GET /api/ws HTTP/1.1\r\nHost: x\r\n\r\n", 426),
    ("upgrade with a body", base.replace("\r\n\r\n", "\r\nContent-Length: 4\r\n\r\nabcd"), 400),
]
for name, raw, want in hs_cases:
    r, end = handshake(raw.encode())
    assert status(r) == want and end != "OPEN", "%s: %r" % (name, r[:80])
    assert b"Sec-WebSocket-Accept" not in r
r, _ = handshake(base.replace("Connection: upgrade", "Connection: keep-alive, Upgrade").encode())
assert status(r) == 101, r[:60]
say("handshake: %d bad ones refused (400/404/426, no Accept); token lists accepted" % len(hs_cases))

# ---- frames: each violation gets its close code and nothing else ----
def violation(name, frames, code, port=S, use_tls=True, registered=False):
    s = ws_open(port, use_tls)
    if registered:
        register(s)
    for f in frames:
        if not send(s, f):
            break
    fr, end = read_frames(s, 3)
    s.close()
    assert end != "OPEN", "%s: still open" % name
    assert [op for op, _ in fr] == [8], "%s: got %r" % (name, fr[:3])
    assert close_code(fr) == code, "%s: close %r, expected %d" % (name, close_code(fr), code)
    say("%-50s close %d %r" % (name, code, fr[-1][1][2:].decode()))

reg = REG.encode()
violation("unmasked frame", [frame(reg, mask=None)], 1002)
violation("unmasked frame (plain port)", [frame(reg, mask=None)], 1002, port=L, use_tls=False)
violation("binary frame", [frame(reg, op=2)], 1003)
violation("binary frame after register", [frame(b"\x00\x01", op=2)], 1003, registered=True)
violation("continuation without a message", [frame(reg, op=0)], 1002)
violation("text frame inside a fragmented message", [frame(reg[:10], fin=False), frame(reg)], 1002)
violation("RSV1 set (no extension)", [frame(reg, rsv=4)], 1002)
violation("reserved opcode 3", [frame(reg, op=3)], 1002)
violation("reserved control opcode 0xB", [frame(b"", op=0xB)], 1002)
violation("ping with 126 bytes", [frame(b"x" * 126, op=9, lenform=16)], 1002)
violation("fragmented ping", [frame(b"x", op=9, fin=False)], 1002)
violation("close frame with a 1-byte payload", [frame(b"x", op=8)], 1002)
violation("16-bit length for 10 bytes (non-minimal)", [frame(b"{}" * 5, lenform=16)], 1002)
violation("64-bit length for a register (non-minimal)", [frame(reg, lenform=64)], 1002)
violation("64-bit length with the top bit set", [bytes([0x81, 0xff]) + struct.pack(">Q", 1 << 63) + b"\0" * 4], 1002)
violation("frame over 2 KiB (3000 bytes)", [frame(b"{" + b" " * 2998 + b"}")], 1009)
violation("fragments adding up to 2049 bytes", [frame(b"{" + b" " * 1500, fin=False), frame(b" " * 547 + b"}", op=0)], 1009)
# issue 13, item 8: text must be UTF-8 (RFC 6455 §8.1: 1007); a close code no peer may
# send (§7.4: 999, 1005, 5000, ...) is a protocol error (1002), never echoed
violation("invalid UTF-8 in a text frame", [frame(b'{"a":"\xc3\x28"}')], 1007)
violation("invalid UTF-8 after register", [frame(b"\xff\xfe\x00")], 1007, registered=True)
violation("invalid UTF-8 cut across fragments",
          [frame(b'{"a":"\xe2\x82', fin=False), frame(b'\x28"}', op=0)], 1007)
violation("surrogate U+D800 (CESU) in a text frame", [frame(b'{"a":"\xed\xa0\x80"}')], 1007)
violation("close code 999", [frame(struct.pack(">H", 999), op=8)], 1002)
violation("close code 1005 (never sent)", [frame(struct.pack(">H", 1005), op=8)], 1002)
violation("close code 1006 (never sent)", [frame(struct.pack(">H", 1006), op=8)], 1002)
violation("close code 2000 (unassigned)", [frame(struct.pack(">H", 2000), op=8)], 1002)
violation("close code 5000", [frame(struct.pack(">H", 5000), op=8)], 1002)
violation("close reason not UTF-8", [frame(struct.pack(">H", 1000) + b"\xc0\xaf", op=8)], 1007)
violation("flood: 200 date requests at once",
          [b"".join(frame(msg(FACTORY, "date")) for _ in range(200))], 1008, registered=True)

# The 64-bit length announcing 1 TB is refused from its header: no payload is awaited.
s = ws_open(S)
t0 = time.time()
send(s, bytes([0x81, 0xff]) + struct.pack(">Q", 1 << 40) + b"\0\0\0\0")
fr, end = read_frames(s, 5)
assert close_code(fr) == 1009 and end != "OPEN" and time.time() - t0 < 2 * SLOW, (fr, end)
say("64-bit length announcing 1 TB: close 1009 from the header alone (%.2f s)" % (time.time() - t0))

# ---- what is allowed: fragments, pings, 2048-byte messages, a client close ----
s = ws_open(S)
send(s, frame(reg[:7], fin=False))
send(s, frame(b"x", op=9))                       # a ping may come between fragments
send(s, frame(reg[7:20], op=0, fin=False))
send(s, frame(reg[20:], op=0))
fr, _ = rx(s, 2, done=lambda b: frame_done(b) and frame_done(b[len(b"\x8a\x01x"):]))
frames = parse_frames(fr)
assert frames[0] == (0xA, b"x"), frames
key = json.loads(frames[1][1])["apikey"]
send(s, frame(b"", op=9))
r, _ = rx(s, 2, done=frame_done)
assert r == b"\x8a\x00", "pong to the device's empty ping is %r, not 8A 00" % r
pad = 2048 - len(msg(key, "date", x=""))
m = msg(key, "date", x="y" * pad)
assert len(m) == 2048
send(s, frame(m))
d = json_reply(s)
assert d and "date" in d, d
send(s, frame(struct.pack(">H", 1000) + b"bye", op=8))
fr, end = read_frames(s, 3)
assert fr == [(8, struct.pack(">H", 1000))] and end != "OPEN", fr
s = ws_open(S)
send(s, frame(struct.pack(">H", 4000) + "au revoir é".encode(), op=8))
fr, end = read_frames(s, 3)
assert fr == [(8, struct.pack(">H", 4000))] and end != "OPEN", fr
say("accepted: a fragmented register with a ping between fragments, pong 8A 00, "
    "a 2048-byte message; a client close is echoed (1000, 4000 with a UTF-8 reason) and closed")

# ---- bad messages: ignored, no answer, the session goes on ----
s = ws_open(S)
ignored = [b"[]", b'"register"', b"5", b"null", b"true", b"{", b"{}}", b"\x01\x7f\x00",
           b"[" * 1000 + b"]" * 1000, b'{"a":' * 300 + b"1" + b"}" * 300,
           b'{"action":"register","deviceid":"' + b"1" * 2000 + b'"}',
           json.dumps({"action": "register", "apikey": FACTORY, "deviceid": 7}).encode(),
           json.dumps({"action": "register", "apikey": FACTORY, "deviceid": [DEVID]}).encode(),
           json.dumps({"action": ["register"], "deviceid": DEVID}).encode(),
           json.dumps({"action": "register", "deviceid": DEVID, "apikey": {"k": 1}}).encode(),
           json.dumps({"action": "register", "deviceid": DEVID, "model": 5}).encode(),
           json.dumps({"action": "register", "deviceid": DEVID, "romVersion": None}).encode(),
           json.dumps({"action": "date", "deviceid": DEVID}).encode(),        # before register
           json.dumps({"error": 0, "sequence": "1", "deviceid": DEVID}).encode()]
for m in ignored:
    send(s, frame(m))
assert json_reply(s, 2) is None, "a bad message was answered"
key = register(s)                                 # the session is still usable
wrong_types = [{"action": "date", "deviceid": 10}, {"action": "date", "apikey": 5},
               {"action": "update", "params": {"upgradeState": "0"}},
               {"action": "query", "userAgent": 1}, {"error": "0", "sequence": "1"},
               {"error": 0, "sequence": {"n": 1}}, {"action": 12}, {"action": None},
               {"action": "update", "params": {"upgradeState": 1.5}}]
for wt in wrong_types:
    m = {"userAgent": "device", "apikey": key, "deviceid": DEVID}
    m.update(wt)
    send(s, frame(json.dumps(m)))
assert json_reply(s, 2) is None, "a message with a wrong type was answered"
for act in ("upgrade", "restart", "redirect", "notify", "fly", ""):
    send(s, frame(msg(key, act)))
assert json_reply(s, 2) is None, "an unexpected action was answered"
send(s, frame(msg("00000000-0000-4000-8000-000000000000", "date")))  # wrong apikey
assert json_reply(s, 2) is None, "a message with a wrong apikey was answered"
send(s, frame(msg(key, "date")))
d = json_reply(s)
assert d and d["apikey"] == key and "date" in d, d
send(s, frame(json.dumps({"userAgent": "device", "apikey": FACTORY, "deviceid": "1000ffffff",
                          "action": "register", "model": MODEL})))       # another device
assert json_reply(s, 2) is None, "another device's register was answered on this session"
key2 = register(s)                                # the same device registers again
assert key2 != key, "a second register gets a new owner key"
send(s, frame(msg(key2, "update", params={"switch": "off"})))
assert json_reply(s) == {"error": 0, "deviceid": DEVID, "apikey": key2}
up = json_reply(s)
assert up and up["action"] == "upgrade", up
for seq in ("1", "0", str(int(up["sequence"]) + 1), "x" * 23):   # acks nobody asked for
    send(s, frame(json.dumps({"error": 0, "userAgent": "device", "apikey": key2,
                              "deviceid": DEVID, "sequence": seq})))
send(s, frame(json.dumps({"error": 0, "userAgent": "device", "apikey": "1" * 36,
                          "deviceid": DEVID, "sequence": up["sequence"]})))  # wrong key
assert json_reply(s, 2) is None
send(s, frame(json.dumps({"error": 406, "userAgent": "device", "apikey": key2,
                          "deviceid": DEVID, "sequence": up["sequence"]})))
assert json_reply(s, 1) is None
s.close()
say("ignored without an answer: %d malformed/nested/oversized-field/wrong-type messages, "
    "%d wrong types after register, unexpected actions, a wrong apikey, another device's "
    "register, 5 acks with unknown sequences or a wrong key; the real ack counted"
    % (len(ignored), len(wrong_types)))

# Tolerated, answered as usual: params of update/query are informational (lib/ewl_msg.h
# reads them only when they are an object), a numeric sequence, unknown fields.
s = ws_open(S)
key = register(s)
m = json.loads(msg(key, "query"))
m["params"] = "x"
send(s, frame(json.dumps(m)))
assert json_reply(s) == {"error": 0, "deviceid": DEVID, "apikey": key, "params": 0}
send(s, frame(msg(key, "date", sequence=5, ts="x", extra={"deep": [1, 2]})))
assert "date" in json_reply(s)
send(s, frame(msg(key, "update", params=[1])))
assert json_reply(s) == {"error": 0, "deviceid": DEVID, "apikey": key}
assert json_reply(s)["action"] == "upgrade"
s.close()
say("tolerated and answered: query/update with non-object params, a numeric sequence, unknown fields")

# 200 devices at once, each on its own session: all answered (no cross-talk)
socks = []
for i in range(200):      # each registers at once (a session must within 30 s)
    s = ws_open(S, src="127.0.2.%d" % (1 + i // 10))
    send(s, frame(json.dumps({"userAgent": "device", "apikey": FACTORY, "deviceid": "10001%05d" % i,
                              "action": "register", "model": MODEL, "romVersion": "1.5.5"})))
    socks.append(s)
for i, s in enumerate(socks):
    r = json_reply(s, 5)
    assert r and r["deviceid"] == "10001%05d" % i and r["error"] == 0, r
    s.close()
say("200 sessions at once: each register answered on its own session")
timed.join(60 * SLOW)
PY
pass "bad handshakes, frame violations (1002/1003/1007/1008/1009), bad messages ignored, register timeout"

for code in 1002 1003 1007 1008 1009 426; do
    hl_wait_ev main "REJECTED.*error=$code "
done
n=$(hl_ev_count main 'UPGRADE_ACK')
[ "$n" -eq 1 ] || fail "$n UPGRADE_ACK events; only the ack with the right sequence and key counts"
hl_wait_ev main 'UPGRADE_ACK.*error=406 '
hl_wait_ev main 'REGISTER.*deviceid=100008db11'
grep -q 'REGISTER.*deviceid=1000ffffff' "$T/main.ev" && fail "another device's register on a session was accepted"
pass "events: REJECTED with each close code, one UPGRADE_ACK (406), no foreign register"

# a full, well-behaved session still works, and the file server and TLS too
python3 - "$T" "$H" "$S" <<'PY' || fail "a well-behaved device after the hostile ones"
import json, sys
sys.path.insert(0, sys.argv[1])
from hl import *
H, S = int(sys.argv[2]), int(sys.argv[3])
s = ws_open(S, src="127.0.0.1")
key = register(s, devid="100008db99")
s.sendall(frame(json.dumps({"userAgent": "device", "apikey": key, "deviceid": "100008db99",
                            "action": "update", "params": {"switch": "off"}})))
assert json_reply(s)["apikey"] == key
up = json_reply(s)
assert up["action"] == "upgrade" and up["params"]["binList"][0]["downloadUrl"] == \
    "http://127.0.0.1:%d/ota/image_user1-0x01000.bin" % H, up
s.sendall(frame(b"", op=9))
assert rx(s, 2, done=frame_done)[0] == b"\x8a\x00"
s.close()
print("a well-behaved device: register, update, upgrade command, pong")
PY
hl_slots_free
hl_healthy "the hostile WebSocket clients"
sleep 1
fd1=$(hl_fds)
[ "$fd1" -le $((fd0 + 2)) ] || { ls -l "/proc/$HL_PID/fd" >&2; fail "descriptors leaked: $fd0 before, $fd1 after"; }
pass "no descriptor leaked: $fd0 open before, $fd1 after"
hl_stop main

# ---- idle WebSocket (--ws-idle 4 instead of 300 s): silence closes (1001), pings keep it ----
hl_start idle --ws-idle 4
python3 - "$T" "$S" <<'PY' || fail "WebSocket idle timeout"
import json, sys, time
sys.path.insert(0, sys.argv[1])
from hl import *
S = int(sys.argv[2])
def silent():
    s = ws_open(S)
    register(s)
    took, data = closes_within(s, 15)
    check_window("registered WebSocket, silent", took, 4)
    assert close_code(parse_frames(data)) == 1001, data
t = in_thread(silent)
s = ws_open(S, src="127.0.0.4")
key = register(s)
for _ in range(6):                      # 9 s of pings, 1.5 s apart: never idle for 4 s
    time.sleep(1.5)
    send(s, frame(b"", op=9))
    assert rx(s, 2, done=frame_done)[0] == b"\x8a\x00", "no pong: closed while pinging?"
send(s, frame(msg(key, "date")))
assert "date" in json_reply(s)
s.close()
say("a device pinging every 1.5 s stays open for 9 s past a 4 s idle limit")
t.join(30)
PY
hl_wait_ev idle 'WS_CLOSED.*detail="ready"'
hl_stop idle
pass "idle WebSocket closed (1001) after the idle limit; pings count as activity"
