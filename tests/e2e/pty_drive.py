#!/usr/bin/env python3
"""pty_drive.py - runs a program on a pseudo-terminal and plays a person at the keyboard,
for the e2e stories that test terminal prompts (configure_pty.sh, flash_prompt.sh).

usage: pty_drive.py --log FILE [--exit N] [--secret-env VAR]... [--must-show TEXT]...
                    STEP... -- PROGRAM [ARGS...]
Steps run in order:
  --expect TEXT:SECS  wait until TEXT has appeared on the terminal (fail after SECS)
  --send TEXT         type TEXT (escapes such as \\n and \\x03 are decoded)
  --send-env VAR      type the value of environment variable VAR and Enter (keeps a
                      secret out of argv; VAR is removed from the program's environment)
  --pause SECS        wait (e.g. for a prompt that flushes input typed too early)
  --drain SECS        read until the program closes the terminal, at most SECS
Then it writes everything shown to --log, waits for the program and checks: exit status
(--exit, default 0; a signal counts as 128+N), no value of a --secret-env variable on the
terminal, each --must-show text present. Exit 0 when all holds, else 1 with the reason.
"""
import argparse
import os
import pty
import select
import sys
import time


class Step(argparse.Action):
    def __call__(self, parser, ns, value, option=None):
        ns.steps.append((option.lstrip("-"), value))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--secret-env", action="append", default=[])
    ap.add_argument("--must-show", action="append", default=[])
    for opt in ("--expect", "--send", "--send-env", "--pause", "--drain"):
        ap.add_argument(opt, action=Step, dest="steps")
    ap.add_argument("argv", nargs="+")
    ap.set_defaults(steps=[])
    a = ap.parse_args()

    # what is typed reaches the program through the terminal only, not its environment
    typed = {v for k, v in a.steps if k == "send-env"}
    env = {k: v for k, v in os.environ.items() if k not in typed}
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(a.argv[0], a.argv, env)
        finally:
            os._exit(127)
    out = bytearray()

    def read_until(pat, secs):
        """Reads until pat is on the screen (True), or EOF / timeout (False)."""
        end = time.time() + secs
        while pat is None or pat not in out:
            left = end - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], min(left, 0.2))
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    return False
                if not chunk:
                    return False
                out.extend(chunk)
        return True

    problem = None
    for kind, val in a.steps:
        if kind == "expect":
            text, secs = val.rsplit(":", 1)
            if not read_until(text.encode(), float(secs)):
                problem = "'%s' did not appear within %s s" % (text, secs)
                break
        elif kind == "send":
            os.write(fd, val.encode().decode("unicode_escape").encode("latin-1"))
        elif kind == "send-env":
            os.write(fd, os.environ[val].encode() + b"\n")
        elif kind == "pause":
            time.sleep(float(val))
        elif kind == "drain":
            read_until(None, float(val))
    if problem:
        read_until(None, 1)
    with open(a.log, "wb") as f:
        f.write(out)
    if problem:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    if not problem and code != a.exit:
        problem = "exit %d, expected %d" % (code, a.exit)
    for var in a.secret_env:
        if not problem and os.environ[var].encode() in out:
            problem = "the value of $%s was echoed or printed on the terminal" % var
    for text in a.must_show:
        if not problem and text.encode() not in out:
            problem = "'%s' was not shown on the terminal" % text
    if problem:
        print("pty_drive: %s (terminal log: %s)" % (problem, a.log), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
