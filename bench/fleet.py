"""Fleet: N devices through the real `sonota flash --fleet` binary (not srvtest), each
device from its own loopback address (127.0.1.2, 127.0.1.3, ...: bench/loadgen.py
--own-addr), as each real device has its own address on a LAN. Every device does stage 2
at the firmware's pace (4 KiB Range chunk every 100 ms) and then the intermediate
firmware's whole-file fetch of the final image from the same address (--final), so the
fleet counts it done; the run ends by itself at --fleet-size N. Figures: wall time,
devices done (the fleet's own table) and completed (the device side), sonota's CPU time
per device and its peak RSS (wait4 rusage of the sonota process).
"""
import json
import os
import subprocess
import sys
import time

import blib
from blib import fmt_s, log

CHUNK_DELAY_MS = 100


def level(bins, n, timeout_s):
    d = blib.workdir(need_mb=8)
    fw = os.path.join(d, "fw")
    os.mkdir(fw)
    blib.make_images(bins, fw)
    http, https = blib.free_ports(2)
    out = os.path.join(d, "sonota.json")
    row = {"devices": n}
    with open(out, "w") as so, open(out + ".err", "w") as se:
        son = subprocess.Popen([bins.sonota, "flash", "--fleet", "--fleet-size", str(n),
                                "--no-prov", "--no-check-ip", "--serving-host", "127.0.0.1",
                                "--http-port", str(http), "--https-port", str(https),
                                "--firmware-dir", fw, "--json", "--timeout", str(timeout_s)],
                               stdout=so, stderr=se, stdin=subprocess.DEVNULL)
    try:
        if blib.wait_port(https, 20, son) is None:
            raise blib.BenchError("sonota flash --fleet did not start (see %s.err)" % out)
        # Start-up's CPU (the per-run RSA key above all, made by a worker thread while the
        # ports already accept) is counted apart from the devices': the devices start once
        # the worker is done, as real ones call seconds later (provisioning, boot).
        blib.wait_single_thread(son.pid, 20)
        row["startup_cpu_s"] = blib.proc_cpu_s(son.pid)
        t0 = time.monotonic()
        lg_out = os.path.join(d, "loadgen.json")
        with open(lg_out + ".err", "w") as err:
            lg = subprocess.Popen([sys.executable,
                                   os.path.join(os.path.dirname(__file__), "loadgen.py"),
                                   "--port", str(https), "--devices", str(n),
                                   "--chunk-delay-ms", str(CHUNK_DELAY_MS), "--own-addr",
                                   "--final", "--timeout", str(timeout_s - 20), "--out",
                                   lg_out], stdout=subprocess.DEVNULL, stderr=err,
                                  stdin=subprocess.DEVNULL)
        rc, ru, _ = blib.wait_exit(son, timeout_s + 10)
        row["wall_s"] = time.monotonic() - t0
        _, lru, _ = blib.wait_exit(lg, 30)
    finally:
        if son.returncode is None:
            blib.reap(son, 5)
    row["exit"] = rc
    row["srv_cpu_s"] = blib.ru_cpu(ru)
    row["srv_peak_kb"] = blib.peak_kb(son) or 0
    # The kernel's part: on loopback it includes the receiving side of every byte sent
    # (TCP's receive path runs in the sender's system call), which a LAN does not charge.
    row["srv_sys_ms_per_device"] = None if ru is None else 1000.0 * ru.ru_stime / n
    row["cpu_ms_per_device"] = None if row["srv_cpu_s"] is None else \
        1000.0 * row["srv_cpu_s"] / n
    # Serving CPU: the whole run less start-up (10 ms ticks of /proc/<pid>/stat).
    row["serving_cpu_ms_per_device"] = None if row["srv_cpu_s"] is None or \
        row.get("startup_cpu_s") is None else \
        1000.0 * (row["srv_cpu_s"] - row["startup_cpu_s"]) / n
    row["devside_cpu_s"] = blib.ru_cpu(lru)
    try:
        with open(lg_out) as f:
            res = json.load(f)["devices"]
    except (OSError, ValueError, KeyError):
        res = []
    row["completed"] = sum(1 for r in res if r.get("ok"))
    totals = sorted(r["total"] for r in res if r.get("ok") and "total" in r)
    row["device_p50_s"] = totals[len(totals) // 2] if totals else None
    row["device_max_s"] = totals[-1] if totals else None
    done = None
    try:
        with open(out) as f:
            for line in f:
                e = json.loads(line)
                if e.get("event") == "fleet-done":
                    done = e
    except (OSError, ValueError):
        pass
    row["listed"] = len(done["devices"]) if done else 0
    row["done"] = done["done"] if done else 0
    blib.rm_tree(d)
    return row


def run(bins, quick, results):
    levels = [20] if quick else [100, 500]
    log("\n== Fleet: N devices through the real `sonota flash --fleet`, each from its own "
        "address ==")
    blib.raise_fd_limit(4 * max(levels) + 256)
    rows = []
    for n in levels:
        row = level(bins, n, timeout_s=300)
        rows.append(row)
        log("  %4d devices: sonota exit %s, %d done in its table (%d listed), %d completed "
            "on the device side, wall %s s, sonota CPU %s s = %s ms per device (start-up "
            "with the key %s s; serving %s ms per device, %s ms of it in the kernel), "
            "peak RSS %.1f MB" % (
                n, row["exit"], row["done"], row["listed"], row["completed"],
                fmt_s(row["wall_s"]), fmt_s(row["srv_cpu_s"]),
                fmt_s(row["cpu_ms_per_device"], 1), fmt_s(row.get("startup_cpu_s")),
                fmt_s(row["serving_cpu_ms_per_device"], 1),
                fmt_s(row["srv_sys_ms_per_device"], 1), row["srv_peak_kb"] / 1024.0))
    results["fleet"] = rows
