#!/usr/bin/env python3
"""diy_httpd.py - download servers other than sonota's, for `sonota diy flash --url` stories.

usage: diy_httpd.py MODE ADDR FILE LOG
  range    HTTP/1.1 with Range (206, 'Content-Range: bytes a-b/t'), keep-alive; logs each
           request line and Host header; answers POST /api/device/otaFlash with {"error":0}
  norange  answers every GET with 200 and the whole file (no Range support)
  silent   accepts connections and never answers
Prints 'PORT <n>' on stdout once listening (the kernel picks the port). Stops after 120 s.
"""
import http.server
import re
import socket
import sys
import threading
import time

mode, addr, path, logpath = sys.argv[1:5]
data = open(path, "rb").read()
log = open(logpath, "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        log.write("GET %s Host=%s Range=%s\n" % (self.path, self.headers.get("Host"),
                                                  self.headers.get("Range")))
        rng = self.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if mode == "range" and m:
            a = int(m.group(1))
            b = int(m.group(2)) if m.group(2) else len(data) - 1
            b = min(b, len(data) - 1)
            body = data[a:b + 1]
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, len(data)))
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        log.write("POST %s %s\n" % (self.path, body.decode("latin1")))
        out = b'{"error":0}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def silent():
    s = socket.socket()
    s.bind((addr, 0))
    s.listen(8)
    print("PORT %d" % s.getsockname()[1], flush=True)
    held = []
    end = time.time() + 120
    s.settimeout(1)
    while time.time() < end:
        try:
            c, _ = s.accept()
            held.append(c)
            log.write("accepted a connection (never answered)\n")
        except socket.timeout:
            pass


if mode == "silent":
    silent()
    sys.exit(0)
srv = http.server.ThreadingHTTPServer((addr, 0), Handler)
print("PORT %d" % srv.server_address[1], flush=True)
threading.Timer(120, srv.shutdown).start()
srv.serve_forever()
