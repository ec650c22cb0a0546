"""Shared helpers of the benchmarks: binaries, test images, the server under test,
simulated devices, and per-process figures from /proc and wait4().

Everything runs on 127.0.0.1; every wait and loop here has a count or time bound.
"""
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

# Test image sizes: SonOTA's own files (PROTOCOL.md §1.6).
USER_SIZE = 239220
FINAL_SIZE = 482432
CHUNK = 4096
NAME_U1 = "image_user1-0x01000.bin"
NAME_U2 = "image_user2-0x81000.bin"
NAME_FINAL = "image_arduino.bin"


class BenchError(Exception):
    """A benchmark could not run (not a slow result: a broken setup)."""


def log(msg):
    print(msg, flush=True)


def warn(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Bins:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.sonota = os.path.join(self.build, "src/sonota/sonota")
        self.sim = os.path.join(self.build, "src/sim/sonoff-sim")
        self.srvtest = os.path.join(self.build, "tests/e2e/srvtest")
        for p in (self.sonota, self.sim, self.srvtest):
            if not os.access(p, os.X_OK):
                raise BenchError("%s is not built (run: ninja -C %s)" % (p, build))
        self.flash_ok = self._flash_usable()

    def _flash_usable(self):
        """`sonota flash` can drive a scripted loopback run (the orchestrator is done)."""
        try:
            r = subprocess.run([self.sonota, "flash", "--help"], capture_output=True,
                               text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return False
        h = r.stdout + r.stderr
        need = ("--serving-host", "--no-check-ip", "--device", "--firmware-dir", "--json",
                "--https-port", "--http-port", "--pace", "--wifi-ssid")
        return r.returncode == 0 and all(f in h for f in need)


def workdir(prefer_shm=True, need_mb=64):
    """A scratch directory; on /dev/shm when it has room (flash files of many devices)."""
    base = None
    if prefer_shm and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize > need_mb * 1024 * 1024:
            base = "/dev/shm"
    return tempfile.mkdtemp(prefix="sonota-bench.", dir=base)


def make_images(bins, d):
    """SonOTA-sized test images under SonOTA's names in d; returns {name: path}."""
    out = {}
    for kind, name, size, seed in (("user1", NAME_U1, USER_SIZE, 1),
                                   ("user2", NAME_U2, USER_SIZE, 2),
                                   ("final", NAME_FINAL, FINAL_SIZE, 3)):
        p = os.path.join(d, name)
        r = subprocess.run([bins.sonota, "image", "make-test", "--kind", kind, "--size",
                            str(size), "--seed", str(seed), p], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise BenchError("sonota image make-test %s failed: %s" % (kind, r.stderr.strip()))
        out[name] = p
    return out


def raise_fd_limit(want=8192):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_port(port, deadline_s, proc=None):
    """Seconds until 127.0.0.1:port accepts, polling every ms; None on timeout/exit."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if proc is not None and exited(proc):
            return None
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return time.monotonic() - t0
        except OSError:
            time.sleep(0.001)
    return None


# ---- per-process figures ----

def proc_cpu_s(pid):
    """utime + stime of a live process, seconds (/proc/<pid>/stat fields 14, 15)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_main_cpu_ms(pid):
    """CPU time of a live process's main thread, ms to the nanosecond
    (/proc/<pid>/task/<pid>/schedstat, first field): unlike wall time it does not grow
    when other jobs share the cores, and it leaves out worker threads (the TLS key)."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, pid)) as f:
            return int(f.read().split()[0]) / 1e6
    except (OSError, IndexError, ValueError):
        return None


def proc_threads(pid):
    """Number of threads of a live process, or None."""
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return None


def wait_single_thread(pid, deadline_s):
    """Seconds until the process is down to its main thread (sonota's TLS key worker has
    finished, src/io/tls.c), polling every ms; None on timeout or exit."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        n = proc_threads(pid)
        if n is None:
            return None
        if n <= 1:
            return time.monotonic() - t0
        time.sleep(0.001)
    return None


def proc_status_kb(pid, key):
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def exited(proc):
    """Whether proc has exited, without reaping it (its rusage stays available)."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


# Peak RSS per process, from /proc/<pid>/status VmHWM, sampled while it runs (wait_exit,
# reap). Not rusage's ru_maxrss: Linux keeps a process's high-water mark across exec, and a
# child starts from a copy of this Python's memory, so ru_maxrss of a small program started
# from here is at least the bench's own RSS (a child running /bin/true from a 65 MB Python
# reports 65 MB). VmHWM belongs to the program's own address space.
_hwm = {}


def _note_hwm(proc):
    kb = proc_status_kb(proc.pid, "VmHWM")
    if kb:
        _hwm[proc.pid] = max(kb, _hwm.get(proc.pid, 0))


def peak_kb(proc):
    """proc's peak RSS in kB as last sampled (VmHWM only grows), or None."""
    return _hwm.get(proc.pid)


def ru_cpu(ru):
    return None if ru is None else ru.ru_utime + ru.ru_stime


def _wait4(proc, flags):
    """wait4 on proc; (status, rusage) once it has exited, else None. Popen.poll() is
    never used on these processes: it would reap them and lose the rusage."""
    try:
        pid, status, ru = os.wait4(proc.pid, flags)
    except ChildProcessError:
        return (proc.returncode if proc.returncode is not None else -1), None
    if pid != proc.pid:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, ru


def reap(proc, timeout_s, sig=signal.SIGTERM):
    """Signals proc (if still running) and reaps it with wait4: returns (status, rusage).
    Kills it after timeout_s. Its peak RSS: peak_kb(proc), not rusage.ru_maxrss."""
    r = _wait4(proc, os.WNOHANG)
    if r is not None:
        return r
    _note_hwm(proc)
    if sig is not None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        r = _wait4(proc, os.WNOHANG)
        if r is not None:
            return r
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    return _wait4(proc, 0)


def wait_exit(proc, timeout_s):
    """Reaps proc once it exits by itself (killing it after timeout_s):
    (status, rusage, seconds waited)."""
    t0 = last = time.monotonic()
    _note_hwm(proc)
    while time.monotonic() - t0 < timeout_s:
        r = _wait4(proc, os.WNOHANG)
        if r is not None:
            return r[0], r[1], time.monotonic() - t0
        if time.monotonic() - last >= 0.02:
            _note_hwm(proc)
            last = time.monotonic()
        time.sleep(0.002)
    rc, ru = reap(proc, 5, sig=signal.SIGKILL)
    return rc, ru, time.monotonic() - t0


# ---- the server under test: tests/e2e/srvtest (src/sonota/server.c, unchanged) ----

class Srvtest:
    """srvtest on 127.0.0.1 with kernel-chosen ports; events go to a file."""

    def __init__(self, bins, d, images, pace="auto", cloud=True, max_seconds=900, tag="srv",
                 extra=()):
        self.ev_path = os.path.join(d, tag + ".ev")
        self.err_path = os.path.join(d, tag + ".log")
        args = [bins.srvtest, "--bind", "127.0.0.1", "--serving-ip", "127.0.0.1",
                "--http-port", "0", "--https-port", "0", "--pace", pace,
                "--max-seconds", str(max_seconds)]
        for name, path in images.items():
            args += ["--file", "%s=%s" % (name, path)]
        if cloud:
            args += ["--user1", NAME_U1, "--user2", NAME_U2]
        args += list(extra)
        self.t_start = time.monotonic()
        self.ev = open(self.ev_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.ev, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        self.http = self.https = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20:
            with open(self.ev_path) as f:
                for line in f:
                    if line.startswith("PORTS "):
                        kv = dict(x.split("=") for x in line.split()[1:])
                        self.http, self.https = int(kv["http"]), int(kv["https"])
            if self.http:
                break
            if exited(self.proc):
                break
            time.sleep(0.005)
        if not self.http:
            self.stop()
            raise BenchError("srvtest did not start: %s" % open(self.err_path).read()[-400:])
        self.t_listening = time.monotonic() - self.t_start

    @property
    def pid(self):
        return self.proc.pid

    def cpu_s(self):
        return proc_cpu_s(self.proc.pid)

    def stop(self):
        """SIGTERM, reap; returns (status, rusage)."""
        rc, ru = reap(self.proc, 15)
        self.ev.close()
        self.err.close()
        return rc, ru

    def events(self, kind=None):
        out = []
        with open(self.ev_path) as f:
            for line in f:
                if line.startswith("EV ") and (kind is None or line.split()[1] == kind):
                    out.append(line)
        return out


# ---- simulated devices ----

def sim_args(bins, d, idx, extra):
    """Common sonoff-sim arguments of device idx (own flash file, report and log)."""
    dev = "1000%06x" % idx
    return dev, [bins.sim, "--flash", os.path.join(d, "flash-%s.bin" % dev), "--device-id", dev,
                 "--report", os.path.join(d, "report-%s.json" % dev),
                 "--log-file", os.path.join(d, "sim-%s.log" % dev)] + list(extra)


def read_report(d, dev):
    try:
        with open(os.path.join(d, "report-%s.json" % dev)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt_s(x, nd=2):
    return "n/a" if x is None else ("%.*f" % (nd, x))


def fmt_pct(x, nd=2):
    return "n/a" if x is None else ("%.*f %%" % (nd, 100.0 * x))


def rm_tree(d):
    if os.environ.get("BENCH_KEEP"):
        log("  (kept %s)" % d)
        return
    shutil.rmtree(d, ignore_errors=True)
