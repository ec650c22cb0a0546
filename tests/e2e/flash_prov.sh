#!/usr/bin/env bash
# Story: stage 1 goes wrong in each way a real pairing AP (or what answers in its place) can:
# a captive portal answering HTML, a device refusing the settings, nothing listening, a device
# that never answers. Each ends with the right exit status and a sentence saying what to do.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require_sonota
flash_images 40000 60000

# fake_ap MODE PORT: html | refuse | silent
fake_ap() {
    python3 - "$1" "$2" <<'PY' &
import http.server, socketserver, sys, time, json
mode, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body, ctype="application/json"):
        self.send_response(code); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if mode == "silent": time.sleep(6); return
        if mode == "html":
            self.reply(200, b"<html><body>Welcome to the hotel WiFi</body></html>", "text/html")
        else:
            self.reply(200, json.dumps({"deviceid": "100016aa70",
                "apikey": "94676db5-88f3-4dc0-8573-5e6615eaacc4", "accept": "post"}).encode())
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0)); self.rfile.read(n)
        self.reply(200, b'{"error":400}')
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    allow_reuse_address = True; daemon_threads = True
srv = S(("127.0.0.1", port), H); srv.timeout = 1
end = time.time() + 60
while time.time() < end: srv.handle_request()
PY
    e2e_track $!
    wait_for 30 port_listening "$2" || fail "fake AP ($1) did not start"
}

flash_ports
fake_ap html "$AP_PORT"
flash_sonota --timeout 30
[ "$SONOTA_RC" -eq 4 ] || ffail "captive portal: expected exit 4, got $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "error" and e["code"] == "device-reply" and "not the device" in e["message"]'
flash_expect_none 'e["event"] == "provisioned"'
pass "an HTML answer is explained (exit 4)"

flash_ports
fake_ap refuse "$AP_PORT"
flash_sonota --timeout 30
[ "$SONOTA_RC" -eq 4 ] || ffail "refused /ap: expected exit 4, got $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "device" and e["source"] == "ap" and e["deviceid"] == "100016aa70"'
flash_expect 'e["event"] == "error" and e["code"] == "device-refused" and "error 400" in e["message"]'
pass "a refused POST /ap is explained (exit 4), password not leaked"

flash_ports # nothing listens on AP_PORT
start=$(date +%s)
flash_sonota --timeout 5
[ "$SONOTA_RC" -eq 5 ] || ffail "nothing listening: expected exit 5, got $SONOTA_RC"
[ $(( $(date +%s) - start )) -le 15 ] || ffail "--timeout 5 did not bound the retries"
flash_check_output
flash_expect 'e["event"] == "error" and e["code"] == "device-unreachable" and "pairing mode" in e["message"]'
pass "an absent device: bounded retries, exit 5"

flash_ports
fake_ap silent "$AP_PORT"
start=$(date +%s)
flash_sonota --timeout 5
[ "$SONOTA_RC" -eq 5 ] || ffail "silent device: expected exit 5, got $SONOTA_RC"
[ $(( $(date +%s) - start )) -le 15 ] || ffail "--timeout 5 did not bound the retries"
flash_expect 'e["event"] == "error" and e["code"] == "device-unreachable" and "no answer within" in e["message"]'
pass "a silent device: 2 s per attempt, exit 5"
