"""Per-device time: the whole stock flow of one simulated device (dispatch, WebSocket,
upgrade, download of the intermediate image, reboot, Espressif2Arduino fetching the
final image) on loopback, with the device throttled to real rates.

Each mode runs twice:
  A  the device at real rates: 4 KiB Range chunk every --chunk-delay-ms (PROTOCOL.md §1.5:
     75-120 ms per chunk), or the style-B reader (1460 B per 10 ms, small buffer), with
     the firmware's own delays (boot, blink, autoRestart) x time-scale;
  B  the same flow with the device's delays taken out (chunk delay 0, a reader that takes
     whatever comes, time-scale 0.001): what is left is the server, loopback and the
     simulator's own work, an upper bound on what sonota adds.
Device-limited time = A - B; share waiting on the device = (A - B) / A; sonota adds
at most B / (A - B).
"""
import math
import os
import signal
import subprocess
import time

import blib
from blib import fmt_pct, fmt_s, log

RANGE_DELAY_MS = 100          # middle of the measured 75-120 ms per 4 KiB chunk (§1.5, §8)
READER_CHUNK, READER_INTERVAL_MS = 1460, 10   # the simulator's style-B defaults
SLOWSTREAM_BPS = 4.7e3        # SonOTA --slowstream (§1.5)
TOLERANT_READER = ["--reader-max-pending", str(1 << 24), "--reader-rcvbuf", str(1 << 20)]
GREEDY_READER = ["--reader-chunk", "65536", "--reader-interval-ms", "1"] + TOLERANT_READER


def scenarios(quick):
    """(name, server pace, sim args for A, sim args for B or None, what it shows)."""
    rows = [
        ("range", "auto", ["--download", "range", "--chunk-delay-ms", str(RANGE_DELAY_MS)],
         ["--download", "range", "--chunk-delay-ms", "0"],
         "style A: 4 KiB Range per %d ms" % RANGE_DELAY_MS),
    ]
    if not quick:
        for d in (75, 120):
            rows.append(("range-%d" % d, "auto",
                         ["--download", "range", "--chunk-delay-ms", str(d)],
                         ["--download", "range", "--chunk-delay-ms", "0"],
                         "style A: 4 KiB Range per %d ms" % d))
    rows += [
        ("fast", "fast", ["--download", "whole"] + TOLERANT_READER,
         ["--download", "whole"] + GREEDY_READER,
         "style B whole body, unpaced, reader with a big buffer"),
        ("fast-strict", "fast", ["--download", "whole", "--max-sessions", "1"], None,
         "unpaced whole body to the strict slow reader (expected to fail)"),
        ("paced", "slow", ["--download", "whole"], None,
         "paced whole body to the strict slow reader (the server's pace sets the rate)"),
    ]
    if not quick:
        rows.append(("auto", "auto", ["--download", "whole"], None,
                     "strict reader, --pace auto: fails once (ack 404), then paced"))
    return rows


def device_min_download_s(sim_args, size):
    """The device's own minimum for the main download (what it would take on an
    infinitely fast server)."""
    if "range" in sim_args:
        d = int(sim_args[sim_args.index("--chunk-delay-ms") + 1])
        return math.ceil(size / blib.CHUNK) * d / 1000.0
    chunk, interval = READER_CHUNK, READER_INTERVAL_MS
    if "--reader-chunk" in sim_args:
        chunk = int(sim_args[sim_args.index("--reader-chunk") + 1])
    if "--reader-interval-ms" in sim_args:
        interval = int(sim_args[sim_args.index("--reader-interval-ms") + 1])
    return math.ceil(size / chunk) * interval / 1000.0


PHASES = ("provision", "cloud", "download", "reboot+E2A", "final")


def _phases(marks):
    """Phase lengths from event times: provision (listening to provisioned), cloud
    (dispatch to the upgrade ack: TLS, WebSocket messages, upgrade), download (the stock
    firmware's download), reboot+E2A (device reboot, E2A blink and poll), final (E2A's
    download of the final image)."""
    def span(a, b):
        return marks[b] - marks[a] if a in marks and b in marks and marks[b] >= marks[a] \
            else None
    return {"provision": span("listening", "provisioned"), "cloud": span("dispatch", "ack"),
            "download": span("dl_start", "dl_done"), "reboot+E2A": span("dl_done", "fin_start"),
            "final": span("fin_start", "fin_done")}


def _marks_flash(path):
    """Event times (seconds since sonota started) from `sonota flash --json`."""
    import json
    m = {}
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return m
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        ev, t = e.get("event"), e.get("t")
        if t is None:
            continue
        if ev == "listening":
            m.setdefault("listening", t)
        elif ev == "provisioned":
            m.setdefault("provisioned", t)
        elif ev == "device" and e.get("source") == "dispatch":
            m.setdefault("dispatch", t)
        elif ev == "ack" and e.get("kind") == "ack" and e.get("error") == 0:
            m["ack"] = t
        elif ev == "download":
            final = e.get("file") == blib.NAME_FINAL
            if e.get("state") == "start":
                m.setdefault("fin_start" if final else "dl_start", t)
            elif e.get("state") == "done":
                m["fin_done" if final else "dl_done"] = t
    return m


def _marks_srvtest(srv):
    """Event times (CLOCK_MONOTONIC seconds) from srvtest's event lines."""
    m = {}
    for line in srv.events():
        f = line.split()
        kind, t = f[1], float(f[2][2:])
        if kind == "DISPATCH":
            m.setdefault("dispatch", t)
        elif kind == "UPGRADE_ACK" and " error=0 " in line:
            m["ack"] = t
        elif kind in ("DOWNLOAD_START", "DOWNLOAD_DONE"):
            final = " file=%s " % blib.NAME_FINAL in line
            key = ("fin_" if final else "dl_") + ("start" if kind == "DOWNLOAD_START" else "done")
            if kind == "DOWNLOAD_START":
                m.setdefault(key, t)
            else:
                m[key] = t
    return m


class RunResult:
    def __init__(self):
        self.phases = {}
        self.ok = False
        self.total_s = None
        self.reason = ""
        self.downloads = []
        self.srv_cpu_s = None
        self.srv_peak_kb = None
        self.main_dl = None       # the stock firmware's download (range/whole)


def _parse(res, rep):
    if rep is None:
        res.reason = "no simulator report"
        return
    res.ok = bool(rep.get("final_ok"))
    res.reason = rep.get("reason", "")
    res.downloads = rep.get("downloads", [])
    good = [x for x in res.downloads if x.get("kind") in ("range", "whole") and x.get("ok")]
    res.main_dl = good[-1] if good else None


def run_srvtest(bins, d, imgs, pace, sim_extra, time_scale, idx):
    """One device against srvtest (the server alone; provisioning skipped with --no-ap)."""
    res = RunResult()
    srv = blib.Srvtest(bins, d, imgs, pace=pace, tag="dev%d" % idx, max_seconds=600)
    try:
        dev, args = blib.sim_args(bins, d, idx, [
            "--no-ap", "--server", "127.0.0.1:%d" % srv.https, "--final-host", "127.0.0.1",
            "--final-port", str(srv.http), "--time-scale", str(time_scale), "--timeout", "300",
            "-q"] + sim_extra)
        c0 = srv.cpu_s()
        t0 = time.monotonic()
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
        blib.wait_exit(p, 330)
        res.total_s = time.monotonic() - t0
        c1 = srv.cpu_s()
        res.srv_cpu_s = None if c0 is None or c1 is None else c1 - c0
    finally:
        srv.stop()
    res.srv_peak_kb = blib.peak_kb(srv.proc)
    res.phases = _phases(_marks_srvtest(srv))
    _parse(res, blib.read_report(d, dev))
    return res


def run_flash(bins, d, imgs, pace, sim_extra, time_scale, idx):
    """One device through `sonota flash` (provisioning over the sim's AP included)."""
    res = RunResult()
    ap, http, https = blib.free_ports(3)
    dev, args = blib.sim_args(bins, d, idx, [
        "--ap-addr", "127.0.0.1", "--ap-port", str(ap), "--final-host", "127.0.0.1",
        "--final-port", str(http), "--time-scale", str(time_scale), "--timeout", "300",
        "-q"] + sim_extra)
    t0 = time.monotonic()
    sim = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL)
    if blib.wait_port(ap, 15, sim) is None:
        blib.reap(sim, 5)
        res.reason = "the simulator's AP did not open"
        return res
    env = dict(os.environ, SONOTA_WIFI_PASSWORD="bench-%d" % os.getpid())
    out_path = os.path.join(d, "flash-%d.json" % idx)
    out = open(out_path, "w")
    t_fl = time.monotonic()
    fl = subprocess.Popen([bins.sonota, "flash", "--device", "http://127.0.0.1:%d" % ap,
                           "--serving-host", "127.0.0.1", "--no-check-ip", "--http-port",
                           str(http), "--https-port", str(https), "--wifi-ssid", "Bench",
                           "--firmware-dir", os.path.dirname(imgs[blib.NAME_U1]),
                           "--pace", pace, "--json", "--timeout", "600"],
                          stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                          env=env)
    # Server CPU from the moment it listens: its start-up is in the footprint figures.
    c0 = None
    t_wait = time.monotonic()
    while c0 is None and time.monotonic() - t_wait < 20 and not blib.exited(fl):
        with open(out_path) as f:
            if '"event":"listening"' in f.read():
                c0 = blib.proc_cpu_s(fl.pid)
                break
        time.sleep(0.005)
    blib.wait_exit(sim, 330)
    t_end = time.monotonic()
    rep = blib.read_report(d, dev)
    if rep and rep.get("final_ok"):
        # sonota ends by itself once the final image went out: a bounded while.
        _, ru, _ = blib.wait_exit(fl, 20)
    else:
        # The device gave up: so does the user (Ctrl-C), as sonota would wait on.
        _, ru = blib.reap(fl, 10, sig=signal.SIGINT)
    out.close()
    marks = _marks_flash(out_path)
    # The flow starts when sonota listens (its start-up, with the per-run certificate, is
    # in the footprint figures); before that the simulator only waits.
    res.total_s = t_end - (t_fl + marks["listening"] if "listening" in marks else t0)
    res.phases = _phases(marks)
    total_cpu = blib.ru_cpu(ru)
    res.srv_cpu_s = None if total_cpu is None or c0 is None else total_cpu - c0
    res.srv_peak_kb = blib.peak_kb(fl)
    _parse(res, blib.read_report(d, dev))
    if fl.returncode != 0 and res.ok:
        res.reason = "sonota flash exited %d" % fl.returncode
    return res


def run(bins, quick, results):
    log("\n== Per-device time: whole stock flow, one device, loopback ==")
    use_flash = bins.flash_ok
    runner = run_flash if use_flash else run_srvtest
    results["device_server"] = "sonota flash" if use_flash else "srvtest (server.c alone, --no-ap)"
    ts_a = 0.05 if quick else 1.0
    log("server under test: %s; device firmware delays x%g in run A, x0.001 in run B"
        % (results["device_server"], ts_a))
    d = blib.workdir()
    imgs = blib.make_images(bins, d)
    rows = []
    idx = 1
    b_cache = {}
    for name, pace, a_args, b_args, what in scenarios(quick):
        a = runner(bins, d, imgs, pace, a_args, ts_a, idx)
        idx += 1
        b = None
        if b_args is not None:
            key = (pace, tuple(b_args))
            if key not in b_cache:
                b_cache[key] = runner(bins, d, imgs, pace, b_args, 0.001, idx)
                idx += 1
            b = b_cache[key]
        row = {"mode": name, "pace": pace, "what": what, "ok": a.ok,
               "phases_a": a.phases, "phases_b": b.phases if b is not None else None,
               "reason": a.reason, "total_s": a.total_s, "srv_cpu_s": a.srv_cpu_s,
               "srv_peak_kb": a.srv_peak_kb}
        if a.main_dl:
            dl_s = a.main_dl["ms"] / 1000.0
            row["dl_s"] = dl_s
            row["dl_bytes"] = a.main_dl["bytes"]
            row["dl_kBps"] = a.main_dl["bytes"] / dl_s / 1000.0 if dl_s > 0 else None
            row["dl_device_min_s"] = device_min_download_s(a_args, a.main_dl["bytes"])
        if b is not None and b.ok and a.ok:
            row["unthrottled_s"] = b.total_s
            dev_s = a.total_s - b.total_s
            row["device_s"] = dev_s
            row["device_share"] = dev_s / a.total_s
            row["sonota_adds"] = b.total_s / dev_s if dev_s > 0 else None
            if b.main_dl:
                row["dl_unthrottled_s"] = b.main_dl["ms"] / 1000.0
                row["dl_adds"] = (b.main_dl["ms"] / 1000.0) / row["dl_device_min_s"]
        rows.append(row)
        log("  %-11s %-4s %s: %s in %s s%s" % (
            name, pace, "OK  " if a.ok else "FAIL", what, fmt_s(a.total_s),
            "" if a.ok else " (%s)" % a.reason[:150]))
    results["device"] = rows
    results["device_time_scale"] = ts_a
    _print_table(rows)
    blib.rm_tree(d)


def _print_phases(rows):
    log("")
    log("  phases as the server saw them (s, from its events)")
    log("  phases (s)        " + " ".join("%10s" % p for p in PHASES))
    for r in rows:
        for tag in ("a", "b"):
            ph = r.get("phases_" + tag)
            if not ph or not r["ok"]:
                continue
            log("  %-11s run %s " % (r["mode"], tag.upper()) +
                " ".join("%10s" % fmt_s(ph.get(p), 3) for p in PHASES))
    gap = frame_gap_ms()
    log("  cloud = TLS dispatch .. upgrade ack (WebSocket register/date/update, upgrade; %s)"
        % ("the server spaces frames to one device by %d ms, §1.4" % gap if gap else
           "frame spacing of the server, §1.4"))


def frame_gap_ms():
    """CLOUD_WS_FRAME_GAP_MS from the source, for the explanation (None if not found)."""
    import re
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "sonota",
                       "cloud.h")
    try:
        m = re.search(r"#define\s+CLOUD_WS_FRAME_GAP_MS\s+(\d+)", open(src).read())
    except OSError:
        return None
    return int(m.group(1)) if m else None


def _print_table(rows):
    _print_phases(rows)
    log("")
    log("  %-11s %9s %9s %9s %8s %8s | %8s %8s %8s %9s | %7s %7s" % (
        "mode", "total s", "device s", "no-dev s", "on dev", "adds<=",
        "dl s", "dev-min", "dl adds", "dl kB/s", "srv cpu", "srv MB"))
    for r in rows:
        log("  %-11s %9s %9s %9s %8s %8s | %8s %8s %8s %9s | %7s %7s" % (
            r["mode"], fmt_s(r.get("total_s")), fmt_s(r.get("device_s")),
            fmt_s(r.get("unthrottled_s"), 3), fmt_pct(r.get("device_share"), 1),
            fmt_pct(r.get("sonota_adds")), fmt_s(r.get("dl_s")),
            fmt_s(r.get("dl_device_min_s")), fmt_pct(r.get("dl_adds")),
            fmt_s(r.get("dl_kBps"), 1), fmt_s(r.get("srv_cpu_s"), 3),
            fmt_s(None if r.get("srv_peak_kb") is None else r["srv_peak_kb"] / 1024.0, 1)))
    log("  total: sim start to final boot, device at real rates (run A); no-dev: same flow"
        " with device delays removed (run B);")
    log("  on dev = (total - no-dev) / total; adds<= = no-dev / (total - no-dev); dl = the"
        " stock firmware's download of the intermediate image;")
    log("  dev-min = that download's device-limited minimum; dl adds = unthrottled download /"
        " dev-min; srv cpu = server CPU time during run A.")
    for r in rows:
        if r["mode"] == "paced" and r.get("dl_kBps"):
            log("  paced download: %.1f kB/s = %.1fx SonOTA slowstream (4.7 kB/s), strict reader %s"
                % (r["dl_kBps"], r["dl_kBps"] * 1000 / SLOWSTREAM_BPS,
                   "succeeded" if r["ok"] else "FAILED"))
