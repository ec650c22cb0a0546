"""The cross-built binaries side by side, in one run (issue 14; docs/BENCHMARKS.md):
size of each file, start-up, and the time of the whole loopback flow (provisioning, cloud,
FinalStage) against the native sonoff-sim, for the native build, the static Linux builds
(x86_64 native; aarch64 and armhf under qemu-user), sonota.exe under Wine, and the macOS
files (size only: nothing runs them here).

usage: python3 bench/platforms.py NATIVE_BUILD_DIR [--runs N]
Everything runs on 127.0.0.1; every wait has a time bound.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blib  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("SONOTA_CACHE", os.path.expanduser("~/.cache/sonota"))

# name, file under out/, runner prefix (None: not run here)
TARGETS = [
    ("linux-x86_64 (static, native)", "out/linux-x86_64/sonota", []),
    ("linux-aarch64 (qemu-user)", "out/linux-aarch64/sonota", ["qemu-aarch64-static"]),
    ("linux-armhf (qemu-user)", "out/linux-armhf/sonota", ["qemu-arm-static"]),
    ("windows-x86_64 (Wine)", "out/windows-x86_64/sonota.exe", ["wine"]),
    ("macos-arm64", "out/macos-arm64/sonota", None),
    ("macos-x86_64", "out/macos-x86_64/sonota", None),
]


def timed(cmd, timeout):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    return time.monotonic() - t0, r.returncode


def startup(cmd, runs):
    """Median seconds of `sonota --version`: process start to exit."""
    times = []
    for _ in range(runs):
        dt, rc = timed(cmd + ["--version"], 60)
        if rc != 0:
            return None
        times.append(dt)
    return statistics.median(times)


def to_listening(cmd, d, fw):
    """Seconds from spawning `sonota flash` to its HTTPS port accepting a connection."""
    http, https = blib.free_ports(2)
    p = subprocess.Popen(cmd + ["flash", "--no-prov", "--serving-host", "127.0.0.1",
                                "--no-check-ip", "--http-port", str(http), "--https-port",
                                str(https), "--firmware-dir", fw, "--json", "--timeout", "30",
                                "--wifi-ssid", "Home"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, cwd=d)
    try:
        return blib.wait_port(https, 30, p)
    finally:
        blib.reap(p, 10)


def flow(cmd, bins, d, fw):
    """Seconds of one scripted loopback run: provision, cloud, FinalStage, final image."""
    ap, http, https = blib.free_ports(3)
    flash = os.path.join(d, "flash.bin")
    if os.path.exists(flash):
        os.unlink(flash)
    sim = subprocess.Popen([bins.sim, "--flash", flash, "--ap-addr", "127.0.0.1", "--ap-port",
                            str(ap), "--final-host", "127.0.0.1", "--final-port", str(http),
                            "--time-scale", "0.05", "--timeout", "300",
                            "--log-file", os.path.join(d, "sim.log")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if blib.wait_port(ap, 15, sim) is None:
            raise blib.BenchError("the simulator's AP did not open")
        env = dict(os.environ, SONOTA_WIFI_PASSWORD="bench-password")
        t0 = time.monotonic()
        r = subprocess.run(cmd + ["flash", "--device", "http://127.0.0.1:%d" % ap,
                                  "--serving-host", "127.0.0.1", "--no-check-ip",
                                  "--http-port", str(http), "--https-port", str(https),
                                  "--wifi-ssid", "Home", "--firmware-dir", fw, "--json",
                                  "--timeout", "300"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL, env=env, timeout=400, cwd=d)
        dt = time.monotonic() - t0
        return dt if r.returncode == 0 else None
    finally:
        blib.reap(sim, 30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    bins = blib.Bins(a.build)
    os.environ.setdefault("WINEPREFIX", os.path.join(CACHE, "wine"))
    os.environ.setdefault("WINEDEBUG", "-all")
    d = blib.workdir(prefer_shm=False)
    try:
        fw = os.path.join(d, "fw")
        os.makedirs(fw)
        blib.make_images(bins, fw)
        rows = [("native (" + os.path.relpath(bins.sonota, TOP) + ")", bins.sonota, [])]
        for name, rel, runner in TARGETS:
            path = os.path.join(TOP, rel)
            if os.path.exists(path):
                rows.append((name, path, runner))
            else:
                blib.warn("%s: %s not built (make dist builds it)" % (name, rel))
        blib.log("%-32s %10s %12s %14s %10s" % ("binary", "size KiB", "--version s",
                                                 "to listening s", "flow s"))
        for name, path, runner in rows:
            size = os.path.getsize(path) / 1024
            if runner is None or (runner and shutil.which(runner[0]) is None):
                blib.log("%-32s %10.0f %12s %14s %10s" % (name, size, "-", "-", "-"))
                continue
            cmd = runner + [path]
            su = startup(cmd, a.runs)
            tl = to_listening(cmd, d, fw)
            fl = flow(cmd, bins, d, fw)
            blib.log("%-32s %10.0f %12s %14s %10s" % (name, size, blib.fmt_s(su, 3),
                                                       blib.fmt_s(tl, 3), blib.fmt_s(fl, 1)))
    finally:
        blib.rm_tree(d)


if __name__ == "__main__":
    try:
        main()
    except blib.BenchError as e:
        blib.warn(str(e))
        sys.exit(1)
