#!/usr/bin/env python3
"""Minimal fake eWeLink cloud + firmware file server for testing sonoff-sim on its own,
independently of sonota (PROTOCOL.md §1.3-§1.6, §4). 127.0.0.1 only.

Listens:
  --tls-port   TLS (or plain with --plain): POST /dispatch/device and GET /api/ws
  --http-port  plain HTTP: /ota/<file> with Range (206), whole body (200, fast or paced),
               and Espressif2Arduino's HTTP/1.0 GETs.
Writes one JSON object per line to --events (what happened; "accept" events and the
request events carry the peer IP, to check --source-addr), and the file --ready once
listening. Runs until killed or --lifetime seconds.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import uuid

LOCK = threading.Lock()
ARGS = None
FILES = {}
PACED_DEVICES = set()


def event(**kw):
    kw["t"] = round(time.time(), 3)
    with LOCK:
        with open(ARGS.events, "a") as f:
            f.write(json.dumps(kw) + "\n")


def read_head(sock, limit=8192):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(4096)
        if not d:
            return None, b""
        buf += d
        if len(buf) > limit:
            return None, b""
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        k, v = ln.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    return (lines[0], hdrs), rest


def ws_frame(payload, opcode=1):
    n = len(payload)
    if n < 126:
        hdr = bytes([0x80 | opcode, n])
    else:
        hdr = bytes([0x80 | opcode, 126]) + struct.pack(">H", n)
    return hdr + payload


class WsReader:
    def __init__(self, sock, buf):
        self.sock, self.buf = sock, buf

    def frame(self):
        while True:
            if len(self.buf) >= 2:
                b0, b1 = self.buf[0], self.buf[1]
                n, off = b1 & 0x7F, 2
                if n == 126:
                    if len(self.buf) < 4:
                        n = None
                    else:
                        n, off = struct.unpack(">H", self.buf[2:4])[0], 4
                if n is not None:
                    mask = None
                    if b1 & 0x80:
                        mask, off = self.buf[off:off + 4], off + 4
                    if len(self.buf) >= off + n:
                        p = bytearray(self.buf[off:off + n])
                        if mask:
                            for i in range(n):
                                p[i] ^= mask[i % 4]
                        self.buf = self.buf[off + n:]
                        return b0 & 0x0F, bytes(p), b1 & 0x80, mask
            d = self.sock.recv(4096)
            if not d:
                return None, None, None, None
            self.buf += d


def send_json(sock, obj):
    sock.sendall(ws_frame(json.dumps(obj, separators=(",", ":")).encode()))


def upgrade_msg(dev, apikey, model):
    base = "http://127.0.0.1:%d/ota/" % ARGS.http_port
    bins = []
    for name, fname in (("user1.bin", "image_user1-0x01000.bin"),
                        ("user2.bin", "image_user2-0x81000.bin")):
        bins.append({"downloadUrl": base + fname,
                     "digest": hashlib.sha256(FILES[fname]).hexdigest(), "name": name})
    seq = str(int(time.time() * 1000))
    params = {"binList": bins, "model": ARGS.upgrade_model or model, "version": "99.99.99"}
    if not ARGS.no_autorestart:
        params["autoRestart"] = 1
    return {"action": "upgrade", "deviceid": dev, "apikey": apikey, "userAgent": "app",
            "sequence": seq, "ts": 0, "params": params}


def evil(sock, dev, apikey):
    """Frames the firmware must refuse (§1.4): the device drops the connection."""
    p = json.dumps({"action": "update", "deviceid": dev, "apikey": apikey, "sequence": "7",
                    "params": {"switch": "on"}}).encode()
    kind = ARGS.evil
    if kind == "masked":
        m = b"\x01\x02\x03\x04"
        sock.sendall(bytes([0x81, 0x80 | len(p)]) + m +
                     bytes(c ^ m[i % 4] for i, c in enumerate(p)))
    elif kind == "len64":
        sock.sendall(bytes([0x81, 127]) + struct.pack(">Q", len(p)) + p)
    elif kind == "frag":
        sock.sendall(bytes([0x01, 10]) + p[:10])
        sock.sendall(bytes([0x80, len(p) - 10]) + p[10:])
    elif kind == "big":
        sock.sendall(ws_frame(b"{" + b" " * 2100 + b"}"))
    event(ev="evil_sent", kind=kind)


def peer_ip(sock):
    try:
        return sock.getpeername()[0]
    except OSError:
        return None


def ws_session(sock, rest):
    r = WsReader(sock, rest)
    dev = model = None
    apikey = str(uuid.uuid4())
    sent_upgrade = False
    while True:
        op, p, masked, mask = r.frame()
        if op is None:
            event(ev="ws_closed", deviceid=dev)
            return
        if not masked or mask != b"\0\0\0\0":
            event(ev="bad_device_frame", masked=bool(masked))
        if op == 9:
            event(ev="ping", raw_len=len(p))
            sock.sendall(b"\x8a\x02hi" if ARGS.evil == "pong" else b"\x8a\x00")
            continue
        if op != 1:
            continue
        m = json.loads(p)
        act = m.get("action")
        if act == "register":
            dev, model = m["deviceid"], m["model"]
            event(ev="register", deviceid=dev, model=model, romVersion=m.get("romVersion"),
                  apikey=m.get("apikey"), peer=peer_ip(sock))
            key = m["apikey"] if ARGS.bad_apikey else apikey
            send_json(sock, {"error": 0, "deviceid": dev, "apikey": key,
                             "config": {"hb": 1, "hbInterval": ARGS.hb}})
        elif act == "date":
            event(ev="date", deviceid=dev, apikey=m.get("apikey"))
            send_json(sock, {"error": 0, "deviceid": dev, "apikey": apikey,
                             "date": "2017-09-17T00:24:54.955Z"})
        elif act == "update":
            params = m.get("params", {})
            if "upgradeState" in params:
                event(ev="upgradeState", deviceid=dev, state=params["upgradeState"])
                continue
            event(ev="update", deviceid=dev, params=params)
            send_json(sock, {"error": 0, "deviceid": dev, "apikey": apikey})
            if not sent_upgrade and not ARGS.evil:
                sent_upgrade = True
                # Cosmetic toggles as SonOTA does, each its own frame, then the upgrade.
                for i, st in enumerate(("off", "on", "off")):
                    send_json(sock, {"action": "update", "deviceid": dev, "apikey": apikey,
                                     "userAgent": "app", "sequence": str(1000 + i), "ts": 0,
                                     "params": {"switch": st}, "from": "app"})
                    time.sleep(0.02)
                if ARGS.foreign_first:
                    send_json(sock, dict(upgrade_msg(dev, str(uuid.uuid4()), model)))
                msg = upgrade_msg(dev, apikey, model)
                event(ev="upgrade_sent", deviceid=dev, sequence=msg["sequence"])
                send_json(sock, msg)
        elif act == "query":
            event(ev="query", deviceid=dev, params=m.get("params"))
            send_json(sock, {"error": 0, "deviceid": dev, "apikey": apikey, "params": 0})
            if ARGS.evil:
                time.sleep(0.05)
                evil(sock, dev, apikey)
        elif act is None and "error" in m:
            event(ev="ack", deviceid=dev, error=m["error"], sequence=m.get("sequence"))
            if m["error"] == 404:
                PACED_DEVICES.add(dev)


def cloud_conn(sock):
    try:
        req, rest = read_head(sock)
        if not req:
            return
        line, hdrs = req
        if line.startswith("POST /dispatch/device "):
            n = int(hdrs.get("content-length", "0"))
            while len(rest) < n:
                d = sock.recv(4096)
                if not d:
                    return
                rest += d
            body = json.loads(rest[:n])
            event(ev="dispatch", host=hdrs.get("host"), body=body, peer=peer_ip(sock))
            if ARGS.dispatch_status:
                sock.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\n{}")
                return
            port = sock.getsockname()[1]  # the WS lives where dispatch was asked
            reply = json.dumps({"error": 0, "reason": "ok", "IP": "127.0.0.1",
                                "port": port}).encode()
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(reply) + reply)
        elif line.startswith("GET /api/ws "):
            key = hdrs.get("sec-websocket-key", "")
            acc = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            event(ev="ws_open", host=hdrs.get("host"), key=key, peer=peer_ip(sock))
            sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % acc)
                         .encode())
            ws_session(sock, rest)
    except (OSError, ValueError, ssl.SSLError) as e:
        event(ev="cloud_error", error=str(e))
    finally:
        try:
            sock.close()
        except OSError:
            pass


def file_conn(sock):
    try:
        rest = b""
        while True:
            buf = rest
            while b"\r\n\r\n" not in buf:
                d = sock.recv(4096)
                if not d:
                    return
                buf += d
            head, rest = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            hdrs = {k.strip().lower(): v.strip() for k, v in
                    (ln.split(":", 1) for ln in lines[1:])}
            method, target, ver = lines[0].split(" ")
            path = target.split("?")[0]
            name = path.rsplit("/", 1)[-1]
            data = FILES.get(name)
            if data is None:
                event(ev="http_404", target=target)
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            rng = hdrs.get("range")
            if rng:
                a, b = rng.split("=")[1].split("-")
                a, b = int(a), min(int(b), len(data) - 1)
                body = data[a:b + 1]
                event(ev="range", file=name, first=a, last=b, host=hdrs.get("host"),
                      ua=hdrs.get("user-agent"), query="?" in target, peer=peer_ip(sock))
                sock.sendall(b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d"
                             b"\r\nContent-Length: %d\r\n\r\n" % (a, b, len(data), len(body))
                             + body)
                continue
            dev = None
            if "deviceid=" in target:
                dev = target.split("deviceid=")[1].split("&")[0]
            # Pacing is for the stock firmware's style-B GET (HTTP/1.1); E2A gets full speed.
            paced = ver == "HTTP/1.1" and (ARGS.whole == "paced" or
                                           (ARGS.whole == "auto" and dev in PACED_DEVICES))
            event(ev="whole", file=name, version=ver, paced=paced, host=hdrs.get("host"),
                  ua=hdrs.get("user-agent"), connection=hdrs.get("connection"),
                  peer=peer_ip(sock))
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                         b"Content-Type: application/octet-stream\r\n\r\n" % len(data))
            try:
                if ARGS.short_final and name == "image_arduino.bin":
                    sock.sendall(data[:ARGS.short_final])
                    event(ev="whole_short", file=name, sent=ARGS.short_final)
                    return
                if paced:
                    for i in range(0, len(data), 1400):
                        sock.sendall(data[i:i + 1400])
                        time.sleep(0.02)
                else:
                    sock.sendall(data)
                event(ev="whole_done", file=name)
            except OSError as e:
                event(ev="whole_aborted", file=name, error=str(e))
            return
    except (OSError, ValueError) as e:
        event(ev="file_error", error=str(e))
    finally:
        sock.close()


def serve(lsock, handler, ctx=None, name=""):
    while True:
        try:
            c, addr = lsock.accept()
        except OSError:
            return
        event(ev="accept", listener=name, peer=addr[0])
        if ctx is not None:
            def wrap(c=c):
                try:
                    s = ctx.wrap_socket(c, server_side=True)
                    event(ev="tls", version=s.version(), cipher=s.cipher()[0])
                except (ssl.SSLError, OSError) as e:
                    event(ev="tls_fail", error=str(e))
                    c.close()
                    return
                handler(s)
            threading.Thread(target=wrap, daemon=True).start()
        else:
            threading.Thread(target=handler, args=(c,), daemon=True).start()


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    return s


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls-port", type=int, required=True)
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--plain-ws-port", type=int, default=0,
                    help="also serve dispatch+WS in plain TCP here (non-SSL builds)")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--images", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--whole", choices=("fast", "paced", "auto"), default="auto")
    ap.add_argument("--hb", type=int, default=145)
    ap.add_argument("--bad-apikey", action="store_true")
    ap.add_argument("--upgrade-model")
    ap.add_argument("--no-autorestart", action="store_true")
    ap.add_argument("--foreign-first", action="store_true")
    ap.add_argument("--dispatch-status", action="store_true")
    ap.add_argument("--evil", choices=("masked", "len64", "frag", "big", "pong"),
                    help="no upgrade; send a frame the firmware refuses after the query reply")
    ap.add_argument("--short-final", type=int, default=0,
                    help="send only N bytes of image_arduino.bin, then close")
    ap.add_argument("--lifetime", type=int, default=300)
    ARGS = ap.parse_args()
    for f in os.listdir(ARGS.images):
        with open(os.path.join(ARGS.images, f), "rb") as fh:
            FILES[f] = fh.read()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    threading.Thread(target=serve, args=(listen(ARGS.tls_port), cloud_conn, ctx, "tls"),
                     daemon=True).start()
    if ARGS.plain_ws_port:
        threading.Thread(target=serve,
                         args=(listen(ARGS.plain_ws_port), cloud_conn, None, "plain"),
                         daemon=True).start()
    threading.Thread(target=serve, args=(listen(ARGS.http_port), file_conn, None, "http"),
                     daemon=True).start()
    with open(ARGS.ready, "w") as f:
        f.write("ok\n")
    time.sleep(ARGS.lifetime)


if __name__ == "__main__":
    sys.exit(main())
