#!/usr/bin/env python3
"""A lean load generator for the scale benchmark: N stock devices in one asyncio process,
each doing stage 2 exactly as the firmware does it (PROTOCOL.md §1.3-1.5) and as
sonoff-sim does it, but without a process, an emulated flash or firmware delays per device:

  TLS 1.1 AES128-SHA dispatch (POST /dispatch/device) -> TLS WebSocket GET /api/ws with the
  fixed key -> register, date, update, query -> the upgrade command -> ack -> 4 KiB Range
  GETs of the user2 image on one keep-alive connection, one every --chunk-delay-ms after
  the previous chunk arrived (the flash write) -> SHA-256 against the digest ->
  update {"upgradeState":0} -> close.

500 sonoff-sim processes need several times the server's CPU on a 2-core machine; this
needs far less, so the server is measured at the devices' real pace. Every wait has a
timeout; each device has an overall deadline. Connects only to 127.0.0.1.

With --own-addr each device uses its own loopback source address (127.0.1.2, 127.0.1.3,
..., 250 per third byte), as each real device has its own address on a LAN; with --final
it then also does stage 3 as Espressif2Arduino does (§4): one HTTP/1.0 GET of
/ota/image_arduino.bin from that address, the whole body (a `sonota flash --fleet` run
counts a device done only then).

usage: loadgen.py --port HTTPS_PORT --devices N [--chunk-delay-ms 100] [--timeout 240]
                  [--own-addr] [--final] --out FILE.json
"""
import argparse
import asyncio
import hashlib
import json
import os
import ssl
import struct
import sys
import time
import warnings

WS_KEY = "ITEADTmobiM0x1DabcEsnw=="      # the firmware's fixed key (§1.4)
MODEL, ROM = "ITA-GZ1-GL", "1.5.5"
CHUNK = 4096
IO_TIMEOUT = 20.0


class DevError(Exception):
    pass


def tls_ctx():
    """The stock firmware's only profile: TLS 1.1, AES128-SHA, no SNI, no verification (§2)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLS 1.1 on purpose
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.minimum_version = ssl.TLSVersion.TLSv1_1
    c.maximum_version = ssl.TLSVersion.TLSv1_1
    c.set_ciphers("AES128-SHA:@SECLEVEL=0")
    return c


async def read_head(r):
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
    lines = head.decode("latin-1").split("\r\n")
    hdr = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k:
            hdr[k.strip().lower()] = v.strip()
    return lines[0], hdr


def ws_frame(text):
    """Device -> server: FIN+text, MASK bit with key 00 00 00 00 (§1.4)."""
    p = text.encode()
    if len(p) < 126:
        return bytes([0x81, 0x80 | len(p)]) + b"\0\0\0\0" + p
    return bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(p)) + b"\0\0\0\0" + p


async def ws_read(r):
    """Server -> device: one unmasked frame; (opcode, payload)."""
    h = await asyncio.wait_for(r.readexactly(2), IO_TIMEOUT)
    op, n = h[0] & 0x0F, h[1] & 0x7F
    if h[1] & 0x80:
        raise DevError("masked frame from the server")
    if n == 126:
        n = struct.unpack(">H", await asyncio.wait_for(r.readexactly(2), IO_TIMEOUT))[0]
    elif n == 127:
        raise DevError("64-bit frame length (the firmware has none)")
    return op, await asyncio.wait_for(r.readexactly(n), IO_TIMEOUT)


def own_addr(i):
    """Device i's loopback address: 127.0.1.2 onwards (127.0.0.x is left to the tests)."""
    return "127.0.%d.%d" % (1 + i // 250, 2 + i % 250)


class Device:
    def __init__(self, idx, port, chunk_delay, src=None, final=False):
        self.id = "1000%06x" % idx
        self.src = src
        self.final = final
        self.apikey = "%08x-0000-4000-8000-%012x" % (idx, idx)
        self.port = port
        self.delay = chunk_delay
        self.owner = None
        self.t = {}
        self.inbox = asyncio.Queue()
        self.ws_gone = None

    def connect(self, host, port, ssl_ctx=None):
        kw = {"local_addr": (self.src, 0)} if self.src else {}
        if ssl_ctx:
            kw.update(ssl=ssl_ctx, server_hostname=None)
        return asyncio.wait_for(asyncio.open_connection(host, port, **kw), IO_TIMEOUT)

    async def fetch_final(self, host, port):
        """E2A's fetch (§4): HTTP/1.0, no Range, the whole body."""
        r, w = await self.connect(host, port)
        try:
            w.write(b"GET /ota/image_arduino.bin HTTP/1.0\r\nHost: 192.168.4.2\r\n\r\n")
            status, hdr = await read_head(r)
            if not status.startswith("HTTP/1.1 200") and not status.startswith("HTTP/1.0 200"):
                raise DevError("final image: " + status)
            n = int(hdr["content-length"])
            await asyncio.wait_for(r.readexactly(n), IO_TIMEOUT)
            return n
        finally:
            w.close()

    def msg(self, action, **kw):
        m = {"userAgent": "device", "apikey": self.owner or self.apikey,
             "deviceid": self.id, "action": action}
        m.update(kw)
        return json.dumps(m, separators=(",", ":"))

    async def dispatch(self, ctx):
        r, w = await self.connect("127.0.0.1", self.port, ctx)
        try:
            body = json.dumps({"accept": "ws;2", "version": 2, "ts": 933, "deviceid": self.id,
                               "apikey": self.apikey, "model": MODEL, "romVersion": ROM})
            w.write(("POST /dispatch/device HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body)).encode())
            status, hdr = await read_head(r)
            if not status.startswith("HTTP/1.1 200"):
                raise DevError("dispatch: " + status)
            data = await asyncio.wait_for(r.readexactly(int(hdr["content-length"])), IO_TIMEOUT)
            rep = json.loads(data)
            if rep.get("error") != 0:
                raise DevError("dispatch error %r" % rep.get("error"))
            return rep["IP"], int(rep["port"])
        finally:
            w.close()

    async def reader(self, r):
        """Server frames into the inbox; None once the WebSocket is gone (the reason
        stays in self.ws_gone)."""
        try:
            while True:
                op, p = await ws_read(r)
                if op == 0x1:
                    await self.inbox.put(json.loads(p))
                elif op == 0x8:
                    self.ws_gone = "close frame"
                    break
        except asyncio.CancelledError:
            raise
        except (OSError, DevError, ValueError, asyncio.IncompleteReadError,
                asyncio.TimeoutError, ssl.SSLError) as e:
            self.ws_gone = "%s: %s" % (type(e).__name__, e)
        await self.inbox.put(None)

    async def expect(self, pred, what):
        while True:
            m = await asyncio.wait_for(self.inbox.get(), IO_TIMEOUT)
            if m is None:
                raise DevError("the WebSocket went away (%s) while waiting for %s"
                               % (self.ws_gone, what))
            if pred(m):
                return m

    async def download(self, url, digest):
        if not url.startswith("http://"):
            raise DevError("downloadUrl is not http")
        hostport, _, path = url[7:].partition("/")
        host, _, port = hostport.partition(":")
        r, w = await self.connect(host, int(port or 80))
        h = hashlib.sha256()
        total, off, ts = None, 0, 1
        try:
            while total is None or off < total:
                last = off + CHUNK - 1 if total is None else min(off + CHUNK, total) - 1
                ts = (ts * 1103515245 + 12345) & 0x7FFFFFFF
                sign = hashlib.sha256(("%s%d%s" % (self.id, ts, self.apikey)).encode())
                w.write(("GET /%s?deviceid=%s&ts=%d&sign=%s HTTP/1.1\r\nHost: dl.itead.cn\r\n"
                         "Range: bytes=%d-%d\r\nUser-Agent: itead-device\r\n\r\n"
                         % (path, self.id, ts, sign.hexdigest(), off, last)).encode())
                status, hdr = await read_head(r)
                if not status.startswith("HTTP/1.1 206"):
                    raise DevError("chunk at %d: %s" % (off, status))
                cr = hdr.get("content-range", "")
                rng, _, tot = cr.partition("/")
                if total is None:
                    total = int(tot)
                n = int(hdr["content-length"])
                if n != last - off + 1 or not rng.endswith("%d-%d" % (off, last)):
                    raise DevError("chunk at %d: %s, %d bytes" % (off, cr, n))
                h.update(await asyncio.wait_for(r.readexactly(n), IO_TIMEOUT))
                off += n
                await asyncio.sleep(self.delay)     # erase + write the sector
        finally:
            w.close()
        if h.hexdigest() != digest:
            raise DevError("digest mismatch")
        return total

    async def run(self, ctx):
        t0 = time.monotonic()
        ip, port = await self.dispatch(ctx)
        self.t["dispatch"] = time.monotonic() - t0
        if ip != "127.0.0.1":
            raise DevError("dispatch sent IP %s (loopback only)" % ip)
        r, w = await self.connect("127.0.0.1", port, ctx)
        rd = None
        try:
            w.write(("GET /api/ws HTTP/1.1\r\nHost: iotgo.iteadstudio.com\r\nConnection: "
                     "upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n" % WS_KEY).encode())
            status, _ = await read_head(r)
            if "101" not in status:
                raise DevError("WebSocket: " + status)
            rd = asyncio.ensure_future(self.reader(r))
            w.write(ws_frame(self.msg("register", version=2, romVersion=ROM, model=MODEL,
                                      ts=733)))
            reg = await self.expect(lambda m: "error" in m and "apikey" in m, "register reply")
            if reg["error"] != 0 or reg["apikey"] == self.apikey:
                raise DevError("register refused: %r" % reg)
            self.owner = reg["apikey"]
            self.t["register"] = time.monotonic() - t0
            w.write(ws_frame(self.msg("date")))
            await self.expect(lambda m: "date" in m, "date reply")
            w.write(ws_frame(self.msg("update", params={
                "switch": "off", "fwVersion": ROM, "rssi": -31,
                "staMac": "5C:CF:7F:%02X:%02X:%02X" % tuple(bytes.fromhex(self.id[4:])),
                "startup": "off"})))
            await self.expect(lambda m: m.get("error") == 0 and "action" not in m, "update reply")
            w.write(ws_frame(self.msg("query", params=["timers"])))
            up = await self.expect(lambda m: m.get("action") == "upgrade", "upgrade")
            self.t["upgrade"] = time.monotonic() - t0
            bins = {b["name"]: b for b in up["params"]["binList"]}
            if up["params"].get("model") != MODEL or "user2.bin" not in bins:
                raise DevError("unusable upgrade command")
            w.write(ws_frame(json.dumps({"error": 0, "userAgent": "device",
                                         "apikey": self.owner, "deviceid": self.id,
                                         "sequence": up["sequence"]}, separators=(",", ":"))))
            await asyncio.sleep(0.4)      # first GET ~0.4 s after the ack (S#24)
            t_dl = time.monotonic()
            size = await self.download(bins["user2.bin"]["downloadUrl"],
                                       bins["user2.bin"]["digest"])
            self.t["download"] = time.monotonic() - t_dl
            self.t["bytes"] = size
            if self.ws_gone:
                raise DevError("the WebSocket went away during the download (%s)"
                               % self.ws_gone)
            w.write(ws_frame(self.msg("update", params={"upgradeState": 0})))
            await self.expect(lambda m: m.get("error") == 0 and "action" not in m,
                              "upgradeState reply")
            self.t["total"] = time.monotonic() - t0
        finally:
            if rd is not None:
                rd.cancel()
            w.close()
        if self.final:
            await asyncio.sleep(0.2)      # E2A's reboot, the FinalStage AP (x0.05-ish)
            hostport = bins["user2.bin"]["downloadUrl"][7:].partition("/")[0]
            host, _, port = hostport.partition(":")
            t_f = time.monotonic()
            self.t["final_bytes"] = await self.fetch_final(host, int(port or 80))
            self.t["final"] = time.monotonic() - t_f
            self.t["total"] = time.monotonic() - t0


async def one(dev, ctx, deadline):
    try:
        await asyncio.wait_for(dev.run(ctx), deadline)
        return {"id": dev.id, "ok": True, **dev.t}
    except (DevError, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
            ValueError, KeyError, ssl.SSLError) as e:
        return {"id": dev.id, "ok": False, "error": "%s: %s" % (type(e).__name__, e),
                "stage": max(dev.t, key=dev.t.get) if dev.t else "start"}


async def main_async(a):
    ctx = tls_ctx()
    devs = [Device(a.base + i, a.port, a.chunk_delay_ms / 1000.0,
                   own_addr(i) if a.own_addr else None, a.final) for i in range(a.devices)]
    t0 = time.monotonic()
    res = await asyncio.gather(*(one(d, ctx, a.timeout) for d in devs))
    return time.monotonic() - t0, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--devices", type=int, required=True)
    ap.add_argument("--chunk-delay-ms", type=float, default=100)
    ap.add_argument("--timeout", type=float, default=240)
    ap.add_argument("--base", type=int, default=0x100000)
    ap.add_argument("--own-addr", action="store_true")
    ap.add_argument("--final", action="store_true")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not 1 <= a.devices <= 5000:
        ap.error("--devices: 1..5000")
    wall, res = asyncio.run(main_async(a))
    with open(a.out, "w") as f:
        json.dump({"wall_s": wall, "devices": res}, f)
    return 0 if all(r["ok"] for r in res) else 1


if __name__ == "__main__":
    sys.exit(main())
