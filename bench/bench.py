#!/usr/bin/env python3
"""sonota benchmarks: prints every figure of docs/BENCHMARKS.md in one run.

usage: bench.py BUILD_DIR [--quick] [--only footprint,tls,idle,device,scale,fleet] [--json FILE]

Figures only: nothing here fails on a slow result (the summary says which goals are met).
Exit status: 0 when every section produced its figures, 1 when one could not run.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import blib  # noqa: E402
import device  # noqa: E402
import fleet  # noqa: E402
import footprint  # noqa: E402
import idle  # noqa: E402
import mdreport  # noqa: E402
import scale  # noqa: E402
import tls  # noqa: E402
from blib import fmt_pct, fmt_s, log  # noqa: E402

SECTIONS = {"footprint": footprint.run, "tls": tls.run, "device": device.run,
            "scale": scale.run, "idle": idle.run, "fleet": fleet.run}
ORDER = ["footprint", "tls", "idle", "device", "scale", "fleet"]


def _cmd(args):
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=10)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "n/a"


def machine(build):
    cpu = "n/a"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    buildtype = "n/a"
    try:
        with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
            for o in json.load(f):
                if o["name"] == "buildtype":
                    buildtype = o["value"]
                elif o["name"] == "b_sanitize" and o["value"] not in ("none", []):
                    buildtype += " +sanitize=%s" % o["value"]
    except (OSError, ValueError, KeyError):
        pass
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "openssl": " ".join(_cmd(["openssl", "version"]).split()[:2]),
            "libwebsockets": _cmd(["pkg-config", "--modversion", "libwebsockets"]).rstrip("-"),
            "cc": _cmd(["cc", "--version"]), "buildtype": buildtype}


def summary(res, quick):
    log("\n== Goals ==")
    goals = []
    dev = {r["mode"]: r for r in res.get("device", [])}
    rg = dev.get("range")
    if rg:
        adds = rg.get("sonota_adds")
        label = "Range flow: sonota adds < 1 % on top of device-limited time"
        if quick:
            label += " (quick run: firmware delays x0.05 shrink the device time; judge the" \
                     " full run)"
        goals.append((label, adds is not None and adds < 0.01,
                      "adds <= %s (whole flow), %s in the download" % (
                          fmt_pct(adds), fmt_pct(rg.get("dl_adds")))))
    pc = dev.get("paced")
    if pc:
        kbps = pc.get("dl_kBps")
        goals.append(("paced >= 10x SonOTA slowstream (47 kB/s) and strict reader succeeds",
                      bool(pc["ok"] and kbps and kbps * 1000 >= 10 * device.SLOWSTREAM_BPS),
                      "%s kB/s, strict reader %s" % (fmt_s(kbps, 1), "OK" if pc["ok"] else
                                                     "FAILED: " + pc["reason"][:100])))
    for driver in ("loadgen", "sonoff-sim"):
        sc = {r["devices"]: r for r in res.get("scale", []) if r["driver"] == driver}
        if not sc:
            continue
        top = max(sc)
        r = sc[top]
        met = r["completed"] == top and r["failed"] == 0 and r["srv_peak_kb"] < 50 * 1024
        label = "scale (%s): all %d complete, no failure, server peak RSS < 50 MB" % (
            driver, top)
        if top < 500:
            label += " (quick run: 500 in the full run)"
        goals.append((label, met, "%d/%d completed, %d failed, %.1f MB%s" % (
            r["completed"], top, r["failed"], r["srv_peak_kb"] / 1024.0,
            "" if not r["fail_reasons"] else "; " + "; ".join(
                "%d x %s" % (v, k) for k, v in r["fail_reasons"].items()))))
    idl = res.get("idle")
    if idl:
        it = idl["idle_tls"]
        goals.append(("idle: %d TLS connections that never send a ClientHello cost ~0 %% CPU "
                      "(< 1 %% of a core)" % it["connections"],
                      it["cpu_pct"] is not None and it["cpu_pct"] < 0.01,
                      "%s of a core, %d poll calls in %.1f s" % (
                          fmt_pct(it["cpu_pct"]), it["polls"], it["hold_s"])))
        worst = max(x["polls_per_send"] or 0 for x in idl["downloads"])
        goals.append(("downloads: every wake-up does work (<= 3 poll calls per send)",
                      worst <= 3, ", ".join("%s %.1f polls per send" % (
                          x["mode"], x["polls_per_send"] or 0) for x in idl["downloads"])))
    for r in res.get("fleet", []):
        n = r["devices"]
        goals.append(("fleet of %d through `sonota flash --fleet`: all done, exit 0, ends by "
                      "itself" % n, r["exit"] == 0 and r["done"] == n and r["completed"] == n,
                      "%d done, %d completed, exit %s, %s ms CPU per device, %.1f MB" % (
                          r["done"], r["completed"], r["exit"],
                          fmt_s(r["cpu_ms_per_device"], 1), r["srv_peak_kb"] / 1024.0)))
    # issue 15's three figures
    fp = res.get("footprint", {}).get("startup", {})
    for name, st in fp.items():
        if st and not name.startswith("floor"):  # the floors are for reading, not goals
            goals.append(("%s: start-up to listening <= 10 ms (issue 15)" % name,
                          st["startup_ms_median"] <= 10,
                          "median %s ms wall, %s ms main-thread CPU; key ready at %s ms" % (
                              fmt_s(st["startup_ms_median"], 1),
                              fmt_s(st.get("startup_cpu_ms_median"), 1),
                              fmt_s(st.get("key_ready_ms_median"), 0))))
    for r in res.get("fleet", []):
        serving = r.get("serving_cpu_ms_per_device")
        goals.append(("fleet of %d: sonota CPU <= 2.7 ms per device (issue 15)" % r["devices"],
                      serving is not None and serving <= 2.7,
                      "serving %s ms per device; whole run with start-up %s ms per device" % (
                          fmt_s(serving, 2), fmt_s(r["cpu_ms_per_device"], 2))))
        if r["devices"] >= 500:
            goals.append(("fleet of %d: sonota peak RSS <= 30 MB (issue 15)" % r["devices"],
                          r["srv_peak_kb"] <= 30 * 1024, "%.1f MB" % (r["srv_peak_kb"] / 1024.0)))
    for label, met, detail in goals:
        log("  [%s] %s: %s" % ("MET" if met else "NOT MET", label, detail))
    res["goals"] = [{"goal": g, "met": m, "detail": d} for g, m, d in goals]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true", help="reduced sizes (smoke check)")
    ap.add_argument("--only", default=",".join(ORDER))
    ap.add_argument("--json", help="write every figure here as JSON")
    a = ap.parse_args()
    only = [s for s in a.only.split(",") if s]
    for s in only:
        if s not in SECTIONS:
            ap.error("unknown section %s" % s)
    t0 = time.monotonic()
    try:
        bins = blib.Bins(a.build)
    except blib.BenchError as e:
        blib.warn(str(e))
        return 1
    res = {"machine": machine(a.build), "quick": a.quick}
    m = res["machine"]
    log("sonota benchmarks%s — %s" % (" (quick)" if a.quick else "", m["date"]))
    log("machine: %s, %s cores, %.1f GB, Linux %s; %s; libwebsockets %s; build %s" % (
        m["cpu"], m["cores"], m["memory_gb"], m["kernel"], m["openssl"], m["libwebsockets"],
        m["buildtype"]))
    log("sonota flash usable: %s" % ("yes" if bins.flash_ok else
                                     "no (per-device runs use srvtest, the same server code)"))
    rc = 0
    for s in ORDER:
        if s not in only:
            continue
        try:
            SECTIONS[s](bins, a.quick, res)
        except (blib.BenchError, OSError, subprocess.SubprocessError) as e:
            blib.warn("%s: could not run: %s" % (s, e))
            res.setdefault("errors", {})[s] = str(e)
            rc = 1
    summary(res, a.quick)
    res["bench_wall_s"] = time.monotonic() - t0
    log("\nbench wall time: %.0f s" % res["bench_wall_s"])
    out = a.json or os.path.join(a.build, "bench-results.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1, default=str)
        f.write("\n")
    md = os.path.splitext(out)[0] + ".md"
    with open(md, "w") as f:
        f.write(mdreport.render(res))
    log("figures as JSON: %s; as Markdown tables: %s" % (out, md))
    return rc


if __name__ == "__main__":
    sys.exit(main())
