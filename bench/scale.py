"""Scale: N stock devices through stage 2 at once (TLS dispatch, WebSocket register,
upgrade, 4 KiB Range download of the intermediate image at the real chunk rate, digest,
upgradeState) against one server (srvtest = src/sonota/server.c). Figures: wall time,
completed, failures, the server's peak RSS and CPU time, and the spread of per-device
download times.

Two device sides:
  loadgen    bench/loadgen.py: N devices in one asyncio process, the firmware's messages
             and pace, nothing else (cheap enough to leave the server its share of the
             2 cores);
  sonoff-sim N simulator processes (the strict device model; each also emulates its
             flash and firmware, so at 500 they need several times the server's CPU).
A device is complete when its download verified AND its upgradeState went out on the
still-open WebSocket. The devices stop after stage 2 (FinalStage is one device at a time).
"""
import collections
import json
import os
import resource
import subprocess
import sys
import time

import blib
from blib import fmt_s, log

CHUNK_DELAY_MS = 100


def _children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def _srv(bins, d, imgs, tag):
    # Every device connects from 127.0.0.1, so the per-address connection limit
    # (server.h SRV_CONN_PER_IP_DEFAULT, right for one real device per address) is
    # lifted; the total limit stays at its default.
    return blib.Srvtest(bins, d, imgs, pace="auto", tag=tag, max_seconds=900,
                        extra=["--max-conns-per-ip", "-1"])


def _finish(row, srv, ru, dl_s, reasons, n, ok):
    row["srv_cpu_total_s"] = blib.ru_cpu(ru)
    row["srv_peak_kb"] = blib.peak_kb(srv.proc) or row.get("srv_rss_sampled_peak_kb") or 0
    row["completed"] = ok
    row["failed"] = n - ok
    row["fail_reasons"] = dict(reasons.most_common(5))
    row["dl_p50_s"] = _pct(dl_s, 0.5)
    row["dl_p95_s"] = _pct(dl_s, 0.95)
    row["dl_max_s"] = max(dl_s) if dl_s else None
    row["peak_ws"] = _peak_open(srv)
    row["events"] = {k: len(srv.events(k)) for k in (
        "TLS_CLIENT", "DISPATCH", "WS_OPEN", "WS_CLOSED", "UPGRADE_SENT", "UPGRADE_ACK",
        "UPGRADE_STATE", "REJECTED", "ERROR")}
    return row


def _peak_open(srv):
    """Most WebSocket sessions open at one time (WS_OPEN / WS_CLOSED event times)."""
    marks = []
    for kind, step in (("WS_OPEN", 1), ("WS_CLOSED", -1)):
        for line in srv.events(kind):
            t = line.split()[2]
            if t.startswith("t="):
                marks.append((float(t[2:]), -step))   # a close before an open at one time
    peak = cur = 0
    for _, neg in sorted(marks):
        cur -= neg
        peak = max(peak, cur)
    return peak


def _watch(srv, procs, deadline):
    """Polls until every process ended (or the deadline); returns the sampled peak RSS."""
    peak = 0
    pending = list(procs)
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if not blib.exited(p)]
        peak = max(peak, blib.proc_status_kb(srv.pid, "VmRSS") or 0)
        time.sleep(0.05)
    return peak, pending


def level_loadgen(bins, d, imgs, n, timeout_s):
    srv = _srv(bins, d, imgs, "lg%d" % n)
    row = {"devices": n, "driver": "loadgen"}
    out = os.path.join(d, "loadgen-%d.json" % n)
    try:
        c0 = srv.cpu_s()
        t0 = time.monotonic()
        with open(out + ".err", "w") as err:
            lg = subprocess.Popen([sys.executable,
                                   os.path.join(os.path.dirname(__file__), "loadgen.py"),
                                   "--port", str(srv.https), "--devices", str(n),
                                   "--chunk-delay-ms", str(CHUNK_DELAY_MS), "--timeout",
                                   str(timeout_s), "--out", out],
                                  stdout=subprocess.DEVNULL, stderr=err,
                                  stdin=subprocess.DEVNULL)
        row["srv_rss_sampled_peak_kb"], _ = _watch(srv, [lg], t0 + timeout_s + 30)
        _, lru, _ = blib.wait_exit(lg, 5)
        row["wall_s"] = time.monotonic() - t0
        c1 = srv.cpu_s()
        row["srv_cpu_load_s"] = None if c0 is None or c1 is None else c1 - c0
        row["devside_cpu_s"] = blib.ru_cpu(lru)
        row["spawn_s"] = 0.0
    finally:
        _, ru = srv.stop()
    try:
        with open(out) as f:
            res = json.load(f)["devices"]
    except (OSError, ValueError, KeyError):
        res = []
    ok = [r for r in res if r.get("ok")]
    reasons = collections.Counter((r.get("error") or "?")[:120] for r in res if not r.get("ok"))
    if len(res) < n:
        reasons["no result from the load generator"] += n - len(res)
    return _finish(row, srv, ru, [r["download"] for r in ok], reasons, n, len(ok))


def level_sims(bins, d, imgs, n, timeout_s):
    srv = _srv(bins, d, imgs, "sim%d" % n)
    row = {"devices": n, "driver": "sonoff-sim"}
    procs = {}
    try:
        c0 = srv.cpu_s()
        kids0 = _children_cpu()
        t0 = time.monotonic()
        for i in range(n):
            dev, args = blib.sim_args(bins, d, 1000 * n + i, [
                "--no-ap", "--server", "127.0.0.1:%d" % srv.https, "--final-host", "127.0.0.1",
                "--final-port", str(srv.http), "--download", "range", "--chunk-delay-ms",
                str(CHUNK_DELAY_MS), "--time-scale", "0.05", "--timeout", str(timeout_s),
                "--fault", "stop-after=download", "-q"])
            procs[dev] = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        row["spawn_s"] = time.monotonic() - t0
        row["srv_rss_sampled_peak_kb"], pending = _watch(srv, procs.values(),
                                                         t0 + timeout_s + 30)
        for p in pending:   # bounded: anything still running is killed
            blib.reap(p, 5)
        for p in procs.values():
            blib.reap(p, 5, sig=None)
        row["wall_s"] = time.monotonic() - t0
        c1 = srv.cpu_s()
        row["srv_cpu_load_s"] = None if c0 is None or c1 is None else c1 - c0
        row["devside_cpu_s"] = _children_cpu() - kids0
        row["killed"] = len(pending)
    finally:
        _, ru = srv.stop()
    ok, dl_s, reasons = 0, [], collections.Counter()
    for dev in procs:
        rep = blib.read_report(d, dev)
        dls = [x for x in (rep or {}).get("downloads", []) if x.get("kind") == "range"]
        state = [a for a in (rep or {}).get("acks", []) if a.get("as") == "upgradeState"]
        if rep and "download" in rep.get("stages", []) and dls and dls[-1].get("ok") \
                and state and state[-1].get("error") == 0:
            ok += 1
            dl_s.append(dls[-1]["ms"] / 1000.0)
        elif rep and "download" in rep.get("stages", []) and dls and dls[-1].get("ok"):
            reasons["downloaded, but the upgradeState could not be sent (WebSocket gone)"] += 1
        else:
            why = "no report" if rep is None else (rep.get("reason") or "unknown")
            reasons[why[:120]] += 1
    return _finish(row, srv, ru, dl_s, reasons, n, ok)


def run(bins, quick, results):
    lg_levels = [1, 20] if quick else [1, 10, 100, 500]
    sim_levels = [20] if quick else [100, 500]
    log("\n== Scale: N devices through stage 2 at once (srvtest = src/sonota/server.c) ==")
    lim = blib.raise_fd_limit(4 * max(lg_levels + sim_levels) + 256)
    log("open-file limit %d; chunk pacing %d ms per 4 KiB (real); device-limited download "
        "%.1f s" % (lim, CHUNK_DELAY_MS, -(-blib.USER_SIZE // blib.CHUNK) * CHUNK_DELAY_MS
                    / 1000.0))
    rows = []
    for driver, levels, fn in (("loadgen", lg_levels, level_loadgen),
                               ("sonoff-sim", sim_levels, level_sims)):
        for n in levels:
            d = blib.workdir(need_mb=2 * n + 64)
            imgs = blib.make_images(bins, d)
            row = fn(bins, d, imgs, n, timeout_s=240)
            rows.append(row)
            log("  %-10s %4d devices: %d completed, %d failed, wall %s s, server peak RSS "
                "%.1f MB, server CPU %s s%s" % (
                    driver, n, row["completed"], row["failed"], fmt_s(row["wall_s"]),
                    row["srv_peak_kb"] / 1024.0, fmt_s(row["srv_cpu_load_s"]),
                    "" if not row["fail_reasons"] else "; failures: %s" % row["fail_reasons"]))
            blib.rm_tree(d)
    results["scale"] = rows
    log("")
    log("  %-10s %5s %9s %6s %7s %7s %7s %7s %7s %7s %7s %8s %9s" % (
        "devices by", "N", "completed", "failed", "peak WS", "wall s", "spawn s", "dl p50",
        "dl p95", "dl max", "srv MB", "srv cpu", "dev cpu s"))
    for r in rows:
        log("  %-10s %5d %9d %6d %7d %7s %7s %7s %7s %7s %7.1f %8s %9s" % (
            r["driver"], r["devices"], r["completed"], r["failed"], r["peak_ws"],
            fmt_s(r["wall_s"]),
            fmt_s(r["spawn_s"]), fmt_s(r["dl_p50_s"]), fmt_s(r["dl_p95_s"]),
            fmt_s(r["dl_max_s"]), r["srv_peak_kb"] / 1024.0, fmt_s(r["srv_cpu_load_s"]),
            fmt_s(r["devside_cpu_s"])))
    log("  peak WS = most WebSocket sessions open at once; srv MB = server peak RSS (its"
        " VmHWM); srv cpu = server user+sys while the devices ran; dev cpu = the"
        " device side")
    log("  (load generator or simulators) on the same 2 cores; dl = one device's download,"
        " device-limited minimum %.1f s." % (-(-blib.USER_SIZE // blib.CHUNK) * CHUNK_DELAY_MS
                                            / 1000.0))
