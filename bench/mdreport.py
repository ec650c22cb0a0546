"""Markdown tables of a bench-results.json, the form docs/BENCHMARKS.md shows them in.

usage: python3 bench/mdreport.py BUILD_DIR/bench-results.json   (bench.py also writes
BUILD_DIR/bench-results.md after each run)
"""
import json
import sys


def _f(x, nd=2):
    return "n/a" if x is None else "%.*f" % (nd, x)


def _p(x, nd=2):
    return "n/a" if x is None else "%.*f %%" % (nd, 100.0 * x)


def render(r):
    out = []
    m = r.get("machine", {})
    out.append("Run of %s%s: %s, %s cores, %s GB, Linux %s, %s, libwebsockets %s, %s, "
               "build %s; bench wall time %.0f s." % (
                   m.get("date"), " (quick)" if r.get("quick") else "", m.get("cpu"),
                   m.get("cores"), m.get("memory_gb"), m.get("kernel"), m.get("openssl"),
                   m.get("libwebsockets"), m.get("cc"), m.get("buildtype"),
                   r.get("bench_wall_s", 0)))
    fp = r.get("footprint")
    if fp:
        out += ["", "| binary | file bytes | stripped | text | data | bss | shared libs |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for name, b in fp["binaries"].items():
            out.append("| %s | %d | %s | %s | %s | %s | %s |" % (
                name, b["file_bytes"], b.get("stripped_bytes", "n/a"), b.get("text", "n/a"),
                b.get("data", "n/a"), b.get("bss", "n/a"), b.get("shared_libs", "n/a")))
        out += ["", "| process | start-up to listening, median (min-max) | main-thread CPU "
                "to listening | key ready | CPU with the key | runs | idle RSS | "
                "peak RSS |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for name, s in fp.get("startup", {}).items():
            if s:
                out.append("| %s | %s ms (%s-%s) | %s ms | %s ms | %s ms | %d | %s MB | %s MB |"
                           % (name, _f(s["startup_ms_median"], 1), _f(s["startup_ms_min"], 1),
                              _f(s["startup_ms_max"], 1), _f(s.get("startup_cpu_ms_median"), 1),
                              _f(s.get("key_ready_ms_median"), 0),
                              _f(s.get("with_key_cpu_ms_median"), 0), s["runs"],
                    _f((s["idle_rss_kb"] or 0) / 1024.0, 1),
                    _f((s["peak_rss_kb"] or 0) / 1024.0, 1)))
    t = r.get("tls")
    if t:
        out += ["", "| client profile | handshakes | per second | server CPU per handshake | "
                "x one image by Range |", "|---|---:|---:|---:|---:|"]
        for p in t["profiles"]:
            out.append("| %s | %d | %s | %s ms | %s |" % (
                p["profile"], p["handshakes"], _f(p["per_s"], 0), _f(p["srv_cpu_ms_each"], 2),
                _f(p.get("vs_range_image"), 2)))
        out.append("")
        out.append("Serving one %s image: by 4 KiB Range (59 requests, keep-alive) %s ms server "
                   "CPU; as one whole body %s ms server CPU (averages over %d images)." % (
                       "239220-byte", _f(t["image_range"]["srv_cpu_ms_each"]),
                       _f(t["image_whole"]["srv_cpu_ms_each"]), t["image_range"]["images"]))
    dv = r.get("device")
    if dv:
        out += ["", "Server under test: %s; device firmware delays x%g in run A." % (
            r.get("device_server"), r.get("device_time_scale", 1)), "",
            "| mode | result | total s | device-limited s | no-device s | waiting on device | "
            "sonota adds at most | download s | its device minimum s | download kB/s | "
            "server CPU s |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for d in dv:
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                d["mode"], "OK" if d["ok"] else "FAIL: " + d["reason"][:70].replace("|", "/"),
                _f(d.get("total_s")), _f(d.get("device_s")), _f(d.get("unthrottled_s"), 3),
                _p(d.get("device_share"), 1), _p(d.get("sonota_adds")), _f(d.get("dl_s")),
                _f(d.get("dl_device_min_s")), _f(d.get("dl_kBps"), 1), _f(d.get("srv_cpu_s"), 3)))
        out += ["", "| mode, run | provision | cloud | download | reboot+E2A | final |",
                "|---|---:|---:|---:|---:|---:|"]
        for d in dv:
            for tag in ("a", "b"):
                ph = d.get("phases_" + tag)
                if ph and d["ok"]:
                    out.append("| %s, %s | %s |" % (d["mode"], tag.upper(), " | ".join(
                        _f(ph.get(k), 3) for k in ("provision", "cloud", "download",
                                                   "reboot+E2A", "final"))))
    sc = r.get("scale")
    if sc:
        out += ["", "| devices by | N | completed | failed | peak WS open | wall s | spawn s | "
                "download p50 / p95 / max s | server peak RSS | server CPU s | device side "
                "CPU s |", "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
        for s in sc:
            out.append("| %s | %d | %d | %d | %s | %s | %s | %s / %s / %s | %s MB | %s | %s |" % (
                s["driver"], s["devices"], s["completed"], s["failed"], s.get("peak_ws", "n/a"),
                _f(s["wall_s"]), _f(s["spawn_s"]), _f(s["dl_p50_s"]), _f(s["dl_p95_s"]),
                _f(s["dl_max_s"]), _f(s["srv_peak_kb"] / 1024.0, 1), _f(s["srv_cpu_load_s"]),
                _f(s["devside_cpu_s"])))
    fl = r.get("fleet")
    if fl:
        out += ["", "| N | sonota exit | done (its table) | completed (devices) | wall s | "
                "device p50 / max s | sonota CPU s | of it start-up s | CPU per device | "
                "serving CPU per device | sonota peak RSS |",
                "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
        for x in fl:
            out.append("| %d | %s | %d | %d | %s | %s / %s | %s | %s | %s ms | %s ms | %s MB |"
                       % (x["devices"], x["exit"], x["done"], x["completed"], _f(x["wall_s"]),
                          _f(x["device_p50_s"]), _f(x["device_max_s"]), _f(x["srv_cpu_s"]),
                          _f(x.get("startup_cpu_s")), _f(x["cpu_ms_per_device"], 1),
                          _f(x.get("serving_cpu_ms_per_device"), 2),
                          _f(x["srv_peak_kb"] / 1024.0, 1)))
    g = r.get("goals")
    if g:
        out += ["", "| goal | met | figure |", "|---|---|---|"]
        for x in g:
            out.append("| %s | %s | %s |" % (x["goal"], "yes" if x["met"] else "**no**",
                                             x["detail"].replace("|", "/")))
    idl = r.get("idle")
    if idl:
        it = idl["idle_tls"]
        out += ["", "| idle TLS connections (no ClientHello) | held s | server CPU s | "
                "of one core | poll calls | per s |", "|---:|---:|---:|---:|---:|---:|",
                "| %d | %s | %s | %s | %d | %s |" % (
                    it["connections"], _f(it["hold_s"], 1), _f(it["cpu_s"]),
                    _p(it["cpu_pct"]), it["polls"], _f(it["polls_per_s"], 0))]
        out += ["", "| download | bytes | s | poll calls | sends | polls per KiB | "
                "polls per send |", "|---|---:|---:|---:|---:|---:|---:|"]
        for x in idl["downloads"]:
            out.append("| %s | %d | %s | %d | %d | %s | %s |" % (
                x["mode"], x["bytes"], _f(x["wall_s"]), x["polls"], x["sends"],
                _f(x["polls_per_kib"]), _f(x["polls_per_send"], 1)))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        sys.stdout.write(render(json.load(f)))
