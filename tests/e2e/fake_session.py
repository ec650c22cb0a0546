#!/usr/bin/env python3
"""A fake device session on sonota's cloud (issue 13 item 3): from its own loopback
address it opens the TLS WebSocket, registers with a device id (a victim's: the id is
public, it is in the pairing SSID) and a factory apikey of its own, sends an update,
waits for the upgrade command and acks it with the error code given, as often as the
upgrade comes within --wait seconds (--acks N). Prints one JSON line: what it got.
Connects only to the loopback address given.

usage: fake_session.py --port HTTPS_PORT --src 127.0.0.x --deviceid ID --ack 406
                       [--apikey UUID] [--acks N] [--wait S]
"""
import argparse
import json
import os
import socket
import ssl
import struct
import sys
import time
import uuid

WS_KEY = "ITEADTmobiM0x1DabcEsnw=="          # the firmware's fixed key (PROTOCOL.md §1.4)


def frame(payload):
    data = payload.encode()
    n = len(data)
    head = struct.pack("!BB", 0x81, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x81, 0xFE, n)
    return head + b"\0\0\0\0" + data          # the firmware's zero mask


class Ws:
    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def recv_json(self, deadline):
        while True:
            if len(self.buf) >= 2:
                n, off = self.buf[1] & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, off = struct.unpack("!H", self.buf[2:4])[0], 4
                if n < 126 or off == 4:
                    if len(self.buf) >= off + n:
                        op, payload = self.buf[0] & 0x0F, self.buf[off:off + n]
                        self.buf = self.buf[off + n:]
                        if op == 1:
                            return json.loads(payload)
                        if op == 8:
                            return None
                        continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                more = self.s.recv(4096)
            except (socket.timeout, OSError):
                return None
            if not more:
                return None
            self.buf += more


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--deviceid", required=True)
    ap.add_argument("--apikey", default=None)
    ap.add_argument("--ack", type=int, required=True)
    ap.add_argument("--acks", type=int, default=1)
    ap.add_argument("--wait", type=float, default=8.0)
    a = ap.parse_args()
    if not a.src.startswith("127."):
        sys.exit("fake_session: loopback only")
    key = a.apikey or str(uuid.UUID(bytes=os.urandom(16), version=4))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", a.port), timeout=10, source_address=(a.src, 0))
    s = ctx.wrap_socket(raw)
    s.sendall(("GET /api/ws HTTP/1.1\r\nHost: iotgo.iteadstudio.com\r\nConnection: upgrade\r\n"
               "Upgrade: websocket\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % WS_KEY).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        more = s.recv(4096)
        if not more:
            sys.exit("fake_session: no handshake reply")
        head += more
    if not head.startswith(b"HTTP/1.1 101"):
        sys.exit("fake_session: handshake refused: %r" % head[:60])
    ws = Ws(s)
    ws.buf = head.split(b"\r\n\r\n", 1)[1]
    end = time.monotonic() + a.wait
    base = {"userAgent": "device", "deviceid": a.deviceid}
    s.sendall(frame(json.dumps(dict(base, apikey=key, action="register", version=2,
                                    romVersion="1.5.5", model="ITA-GZ1-GL", ts=1))))
    reply = ws.recv_json(end)
    if not reply or reply.get("error") != 0:
        sys.exit("fake_session: register refused: %r" % (reply,))
    owner = reply["apikey"]
    s.sendall(frame(json.dumps(dict(base, apikey=owner, action="update",
                                    params={"switch": "off"}))))
    upgrades = acked = 0
    while acked < a.acks:
        m = ws.recv_json(end)
        if m is None:
            break
        if m.get("action") != "upgrade":
            continue
        upgrades += 1
        s.sendall(frame(json.dumps(dict(base, apikey=owner, error=a.ack,
                                        sequence=m["sequence"]))))
        acked += 1
    time.sleep(0.3)                            # the ack is read before the close
    s.close()
    print(json.dumps({"deviceid": a.deviceid, "src": a.src, "upgrades": upgrades,
                      "acked": acked, "code": a.ack}))


if __name__ == "__main__":
    main()
