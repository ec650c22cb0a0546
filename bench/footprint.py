"""Footprint: binary size, start-up time until the ports accept connections, idle RSS."""
import os
import shutil
import signal
import statistics
import subprocess
import time

import blib
from blib import fmt_s, log


def _sizes(path, tmp):
    out = {"file_bytes": os.path.getsize(path)}
    if shutil.which("strip"):
        st = os.path.join(tmp, os.path.basename(path) + ".stripped")
        if subprocess.run(["strip", "-o", st, path], capture_output=True).returncode == 0:
            out["stripped_bytes"] = os.path.getsize(st)
    if shutil.which("size"):
        r = subprocess.run(["size", path], capture_output=True, text=True)
        lines = r.stdout.strip().splitlines()
        if r.returncode == 0 and len(lines) == 2:
            t, dd, b = lines[1].split()[:3]
            out.update(text=int(t), data=int(dd), bss=int(b))
    if shutil.which("ldd"):
        r = subprocess.run(["ldd", path], capture_output=True, text=True)
        out["shared_libs"] = sum(1 for line in r.stdout.splitlines() if "=>" in line)
    return out


class _Static:
    """Bins' one field _start_flash reads, for another binary."""
    def __init__(self, path):
        self.sonota = path


def _start_flash(bins, imgs, ports):
    http, https = ports
    env = dict(os.environ, SONOTA_WIFI_PASSWORD="bench-footprint")
    return subprocess.Popen(
        [bins.sonota, "flash", "--no-prov", "--no-check-ip", "--serving-host", "127.0.0.1",
         "--http-port", str(http), "--https-port", str(https), "--wifi-ssid", "Bench",
         "--firmware-dir", os.path.dirname(imgs[blib.NAME_U1]), "--json", "--timeout", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)


def _start_srvtest(bins, imgs, ports):
    http, https = ports
    args = [bins.srvtest, "--bind", "127.0.0.1", "--serving-ip", "127.0.0.1", "--http-port",
            str(http), "--https-port", str(https), "--max-seconds", "60",
            "--user1", blib.NAME_U1, "--user2", blib.NAME_U2]
    for name, path in imgs.items():
        args += ["--file", "%s=%s" % (name, path)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)


def _floor_programs(bins, d):
    """bench/floor/listen_only.c built linked to sonota's shared libraries (ldd) and
    statically: what start-up to listening costs before sonota's own code runs."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not shutil.which("ldd"):
        return []
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor", "listen_only.c")
    r = subprocess.run(["ldd", bins.sonota], capture_output=True, text=True)
    libs = [line.split("=>")[1].split()[0] for line in r.stdout.splitlines()
            if "=>" in line and "/" in line.split("=>")[1]
            and not any(k in line for k in ("libc.so", "ld-linux"))]
    out = []
    for label, extra, name in (
            ("floor: listen only, sonota's %d shared libraries" % len(libs),
             ["-Wl,--no-as-needed"] + libs, "floor_shared"),
            ("floor: listen only, static", ["-static"], "floor_static")):
        exe = os.path.join(d, name)
        b = subprocess.run([cc, "-O2", "-o", exe, src] + extra, capture_output=True, text=True)
        if b.returncode == 0:
            out.append((label, exe))
        else:
            log("  (%s not built: %s)" % (name, b.stderr.strip()[-200:]))
    return out


def _startup(bins, imgs, starter, runs):
    """Start-up to both ports accepting; idle RSS 1 s later; peak RSS at exit."""
    times, idle_kb, peak_kb, cpu_ms, key_ms, key_cpu = [], [], [], [], [], []
    for _ in range(runs):
        ports = blib.free_ports(2)
        t0 = time.monotonic()
        p = starter(bins, imgs, ports)
        a = blib.wait_port(ports[1], 20, p)
        b = blib.wait_port(ports[0], 20, p)
        if a is not None and b is not None:
            times.append(time.monotonic() - t0)
            c = blib.proc_main_cpu_ms(p.pid)
            if c is not None:
                cpu_ms.append(c)
            # the per-run key is made by a worker thread while the ports already accept
            if blib.wait_single_thread(p.pid, 10) is not None:
                key_ms.append((time.monotonic() - t0) * 1000)
                k = blib.proc_cpu_s(p.pid)
                if k is not None:
                    key_cpu.append(k * 1000)
            time.sleep(1.0)
            rss = blib.proc_status_kb(p.pid, "VmRSS")
            if rss:
                idle_kb.append(rss)
        blib.reap(p, 10, sig=signal.SIGINT)
        if blib.peak_kb(p):
            peak_kb.append(blib.peak_kb(p))
    if not times:
        return None
    return {"runs": len(times), "startup_ms_median": statistics.median(times) * 1000,
            "startup_ms_min": min(times) * 1000, "startup_ms_max": max(times) * 1000,
            "startup_cpu_ms_median": statistics.median(cpu_ms) if cpu_ms else None,
            "startup_cpu_ms_max": max(cpu_ms) if cpu_ms else None,
            "key_ready_ms_median": statistics.median(key_ms) if key_ms else None,
            "with_key_cpu_ms_median": statistics.median(key_cpu) if key_cpu else None,
            "idle_rss_kb": statistics.median(idle_kb) if idle_kb else None,
            "peak_rss_kb": max(peak_kb) if peak_kb else None}


def run(bins, quick, results):
    log("\n== Footprint ==")
    d = blib.workdir(prefer_shm=False)
    out = {"binaries": {}}
    try:
        for name, path in (("sonota", bins.sonota), ("sonoff-sim", bins.sim)):
            s = _sizes(path, d)
            out["binaries"][name] = s
            log("  %-10s %8d bytes (stripped %s), text %s, data %s, bss %s, %s shared libs" % (
                name, s["file_bytes"], s.get("stripped_bytes", "n/a"), s.get("text", "n/a"),
                s.get("data", "n/a"), s.get("bss", "n/a"), s.get("shared_libs", "n/a")))
        imgs = blib.make_images(bins, d)
        runs = 3 if quick else 10
        which = []
        if bins.flash_ok:
            which.append(("sonota flash --no-prov", _start_flash))
            # the file Linux users download (scripts/xbuild.sh linux-x86_64), when built:
            # static, so no dynamic loader (see the floor below); same harness and images
            static = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                  "out", "linux-x86_64", "sonota")
            if os.access(static, os.X_OK):
                which.append(("out/linux-x86_64 (static) flash --no-prov",
                              lambda b, i, p: _start_flash(_Static(static), i, p)))
        which.append(("srvtest (same server code)", _start_srvtest))
        for label, path in _floor_programs(bins, d):
            which.append((label, lambda b, i, p, path=path: _start_flash(_Static(path), i, p)))
        out["startup"] = {}
        for label, starter in which:
            r = _startup(bins, imgs, starter, runs)
            out["startup"][label] = r
            if r is None:
                log("  %-28s did not start listening" % label)
                continue
            log("  %-28s start-up to listening: median %s ms (min %s, max %s, %d runs), "
                "main-thread CPU %s ms (max %s); key ready at %s ms, CPU with the key %s ms; "
                "idle RSS %s MB" % (label, fmt_s(r["startup_ms_median"], 1),
                                    fmt_s(r["startup_ms_min"], 1), fmt_s(r["startup_ms_max"], 1),
                                    r["runs"], fmt_s(r["startup_cpu_ms_median"], 1),
                                    fmt_s(r["startup_cpu_ms_max"], 1),
                                    fmt_s(r["key_ready_ms_median"], 0),
                                    fmt_s(r["with_key_cpu_ms_median"], 0),
                                    fmt_s((r["idle_rss_kb"] or 0) / 1024.0, 1)))
        log("  (listening: both ports accept, from exec, wall time; main-thread CPU: the same"
            " span in CPU time, which a loaded machine does not stretch; the per-run RSA-2048"
            " key is generated by a worker thread meanwhile and is ready at 'key ready';"
            " idle RSS 1 s after that, images loaded)")
    finally:
        blib.rm_tree(d)
    results["footprint"] = out
