#!/usr/bin/env bash
# Story: a user runs `sonota diy discover` on a LAN with ITEAD 3.x devices in DIY mode and
# sees each one - id, address, firmware, switch state, OTA lock - from its mDNS TXT record
# (PROTOCOL.md §6), across two network namespaces joined by a veth (multicast over it).
# Also: --info fills what a v1.4 TXT lacks, --json, encrypted devices, nothing found, and
# hostile mDNS packets that neither side may choke on.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/diy_lib.sh" || exit 1
diy_require

# ---- a v2.0 device (fw 3.6.0): the TXT record carries fwVersion and otaUnlock ----
start_sim v20 --device-id 1000aa0001
diy discover --json
expect_rc 0 "discover"
python3 - "$OUT" "$DEV_IP" <<'PY' || fail "discover --json fields: $(cat "$OUT")"
import json, sys
devs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(devs) == 1, devs
d = devs[0]
assert d["id"] == "1000aa0001" and d["ip"] == sys.argv[2] and d["port"] == 8081, d
assert d["instance"] == "eWeLink_1000aa0001._ewelink._tcp.local.", d
assert d["type"] == "diy_plug" and d["apivers"] == "1" and d["seq"] >= 1, d
assert d["firmware"] == "3.6.0" and d["switch"] == "off" and d["otaUnlock"] is False, d
assert d["encrypted"] is False and d["complete"] is True, d
PY
pass "discover --json: id, address, port, firmware, switch, OTA lock from the TXT record"

# the table, after the device changed state: a switch request bumps seq and the TXT record
post switch '{"deviceid":"","data":{"switch":"on"}}' | grep -q '"error":0' || fail "switch on"
sleep 0.5
diy discover
expect_rc 0 "discover table"
grep -E "^1000aa0001 +$DEV_IP:8081 +3\.6\.0 +on +locked +-61" "$OUT" >/dev/null ||
    { cat "$OUT"; fail "table row"; }
pass "discover table follows a switch change (TXT re-announced with a new seq)"

# hostile packets to the mDNS group from the laptop: both sides drop them and go on
ip netns exec "$LAP" python3 - "$LAP_IP" <<'PY' || fail "could not send hostile packets"
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
hdr = lambda qd, an: struct.pack(">HHHHHH", 0, 0x8400, qd, an, 0, 0)
pkts = [
    hdr(0, 1) + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x78\x00\x04\x01\x02\x03\x04",  # self pointer
    hdr(1, 0) + b"\x3f" + b"a" * 10,                                                   # label past end
    hdr(0, 1) + b"\x01h\x00\x00\x10\x00\x01\x00\x00\x00\x78\xff\xff",                # rdlength past end
    hdr(0xffff, 0xffff),                                                               # absurd counts
    hdr(0, 1) + b"\x01h\x00\x00\x21\x00\x01\x00\x00\x00\x78\x00\x02\x00\x00",        # short SRV
    b"\x00" * 5,
]
for p in pkts * 20:
    s.sendto(p, ("224.0.0.251", 5353))
PY
diy discover --json
expect_rc 0 "discover after hostile packets"
grep -q '"id":"1000aa0001"' "$OUT" || fail "device lost after hostile packets"
kill -0 "$SIM_PID" || fail "the sim died on hostile mDNS packets"
pass "malformed mDNS packets (loops, overruns, absurd counts) are dropped on both sides"
stop_sim
grep -qE "mdns: goodbye .*[1-9][0-9]* malformed dropped" "$T/v20.log" ||
    { grep goodbye "$T/v20.log"; fail "the sim did not count the malformed packets"; }

# ---- a hostile announcement (issue 13, item 4): escape sequences in the TXT fields ----
# A fake device in the device namespace announces itself every 0.1 s while sonota browses;
# its id, type and firmware carry ESC sequences, C1 and a byte that is not UTF-8.
# It writes $T/evil.ready after its first packet and stops when killed (at most 30 s):
# under load its start can lag, and sonota must browse while it announces.
evil_announce() {
    rm -f "$T/evil.ready"
    ip netns exec "$DEV" python3 - "$DEV_IP" "$T/evil.ready" <<'PY' &
import socket, struct, sys, time
ip = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ip))
name = lambda n: b"".join(bytes([len(l)]) + l for l in n.encode().split(b".")) + b"\0"
rr = lambda n, t, c, rd: n + struct.pack(">HHIH", t, c, 120, len(rd)) + rd
inst = name("eWeLink_1000bbbbbb._ewelink._tcp.local")
host = name("evil.local")
txt = b"".join(bytes([len(x)]) + x for x in [
    b"txtvers=1", b"id=\x1b]0;pwned\x07", b"type=diy_plug\x1b[2J", b"apivers=1", b"seq=1",
    b'data1={"switch":"off\xc2\x9b","startup":"off","pulse":"off","sledOnline":"on",'
    b'"pulseWidth":500,"rssi":-61,"fwVersion":"3.6.0\x1b[2J\xff","otaUnlock":false}'])
pkt = struct.pack(">HHHHHH", 0, 0x8400, 0, 4, 0, 0) + \
    rr(name("_ewelink._tcp.local"), 12, 1, inst) + \
    rr(inst, 33, 0x8001, struct.pack(">HHH", 0, 0, 8081) + host) + \
    rr(inst, 16, 0x8001, txt) + rr(host, 1, 0x8001, socket.inet_aton(ip))
end = time.time() + 30
while time.time() < end:
    s.sendto(pkt, ("224.0.0.251", 5353))
    open(sys.argv[2], "a").close()
    time.sleep(0.1)
PY
    EVIL_PID=$!
    e2e_track "$EVIL_PID"
    wait_for 20 test -f "$T/evil.ready" || fail "the hostile announcer did not start"
}
evil_stop() { kill "$EVIL_PID" 2>/dev/null; wait "$EVIL_PID" 2>/dev/null; }
evil_announce
diy discover
evil_stop
if LC_ALL=C grep -q $'\x1b' "$OUT" "$ERR"; then
    LC_ALL=C grep -n $'\x1b' "$OUT" "$ERR" | cat -v >&2
    fail "discover: an ESC byte from the announcement reached the terminal"
fi
grep -qF '\x1b]0;pwned\x07' "$OUT" || { cat "$OUT"; fail "discover: the hostile id is not shown escaped"; }
evil_announce
diy discover --json
evil_stop
python3 - "$OUT" <<'PY' || fail "discover --json with a hostile announcement: $(cat -v "$OUT")"
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")                                   # valid UTF-8
devs = [json.loads(l) for l in raw.decode().splitlines() if l.strip()]
evil = [d for d in devs if d["id"] == "\x1b]0;pwned\x07"]
assert evil, devs                                     # lossless once decoded
assert evil[0]["type"] == "diy_plug\x1b[2J", evil[0]
assert b"\xc2\x9b" not in raw and b"\x1b" not in raw
PY
LC_ALL=C grep -q $'\x1b' "$ERR" && fail "discover --json: an ESC byte reached stderr"
pass "a hostile mDNS announcement: TXT fields shown escaped, --json valid UTF-8 and lossless"

# ---- a v1.4 device (fw 3.3.0): TXT without fwVersion; --info asks /zeroconf/info ----
start_sim v14 --diy-proto 1.4 --device-id 1000aa0002 --unlocked
diy discover
expect_rc 0 "discover v1.4"
grep -E "^1000aa0002 +$DEV_IP:8081 +- +off +unlocked +-61 +-$" "$OUT" >/dev/null ||
    { cat "$OUT"; fail "v1.4 row without --info"; }
diy discover --info
expect_rc 0 "discover --info"
grep -E "^1000aa0002 +$DEV_IP:8081 +3\.3\.0 +off +unlocked +-61 +1\.4$" "$OUT" >/dev/null &&
    fail "fw 3.3.0 info does not report fwVersion; the row must not invent it"
grep -E "^1000aa0002 +$DEV_IP:8081 +- +off +unlocked +-61 +1\.4$" "$OUT" >/dev/null ||
    { cat "$OUT"; fail "v1.4 row with --info (protocol 1.4 from the data string)"; }
no_spacing_violation
pass "v1.4 device: listed from TXT; --info detects protocol 1.4 (info data as a string)"
stop_sim

# ---- two devices on one network: listed both; an ambiguous command asks for --device ----
ip -n "$DEV" addr add 10.231.0.3/24 dev dd$$
start_sim one --device-id 1000aa0011
ONE_PID=$SIM_PID
start_sim two --device-id 1000aa0012 --diy-addr 10.231.0.3 --fw-version 3.7.6 --unlocked
diy discover --interface dl$$
expect_rc 0 "discover two"
grep -E "^1000aa0011 +$DEV_IP:8081 +3\.6\.0 " "$OUT" >/dev/null || { cat "$OUT"; fail "first device"; }
grep -E "^1000aa0012 +10\.231\.0\.3:8081 +3\.7\.6 +off +unlocked " "$OUT" >/dev/null ||
    { cat "$OUT"; fail "second device"; }
diy info
expect_rc 2 "ambiguous device"
expect_err "2 DIY devices answered; choose one with --device ID" "ambiguity message"
grep -q "1000aa0012  10.231.0.3:8081" "$ERR" || fail "candidates listed"
diy info --device 1000aa0012 --bind "$LAP_IP"
expect_rc 0 "info by id (fw 3.7.6 needs the id: taken from TXT)"
expect_out "device 1000aa0012 at 10.231.0.3:8081" "second device picked"
expect_out "firmware   3.7.6" "second device's info"
stop_sim
SIM_PID=$ONE_PID SIM_NAME=one stop_sim
ip -n "$DEV" addr del 10.231.0.3/24 dev dd$$
pass "two devices: both listed; without --device sonota asks which; --device ID picks it"

# ---- an encrypted device, a device picked by id, and nothing to find ----
start_sim enc --encrypt --device-id 1000aa0003
diy discover --json
expect_rc 0 "discover encrypted"
grep -q '"id":"1000aa0003".*"encrypted":true' "$OUT" || { cat "$OUT"; fail "encrypted flag"; }
diy discover
grep -E "^1000aa0003 .* encrypted " "$OUT" >/dev/null || { cat "$OUT"; fail "encrypted column"; }
diy info --device 1000aa0003
expect_code 401 "encryption required" "info on an encrypted device"
expect_err "sonota speaks only the unencrypted DIY API" "401 sentence"
pass "encrypted device: shown as encrypted; info explains 401"
diy info --device 1000aa0009 --browse-time 2
expect_rc 1 "unknown device id"
expect_err "that device never answered mDNS" "unknown id message"
stop_sim
diy discover --browse-time 2
expect_rc 1 "nothing to discover"
expect_err "no DIY-mode device answered mDNS" "empty discovery message"
diy discover --interface nosuch0
expect_rc 5 "bad interface"
expect_err "interface nosuch0" "bad interface message"
pass "a wrong id, an empty network and a wrong interface are explained"
