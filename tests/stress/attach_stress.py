"""Stress `loong attach` on one long-lived process per interpreter.

    attach_stress.py [--cycles N] [--kills N] [--python PATH]...

1. Cycles: N times attach, load function, unload, detach on the same
   process. After each detach its thread and descriptor counts must be
   back to what they were before the first attach; at the end its RSS may
   have grown by less than 5 MB since the first cycle (which maps the
   runtime and the toolkit once for all). Every command must finish within
   30 s (no hang) and succeed.
2. Kills: N times, `loong load PID function` is started and SIGKILLed
   after a random delay, from 0 to a bit more than a whole load takes;
   whatever it reached is detached. The process must live on, and at the
   end its output must be what it is without loong (its sleeps never cut
   short), its exit status its own, and its threads and descriptors back
   to the baseline.

Run by `make stress` (500 cycles, 200 kills, every CPython found; `make
stress STRESS_PYTHON=python3.12` for one); tests/e2e/test_attach_stress.py
runs a short version in `make test`. Prints one summary line per
interpreter and exits 1 if anything failed.
"""
import argparse
import os
import pathlib
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET = HERE / "stress_target.py"
EXPECTED = b"ready\nmain sleeps complete\nsleeper sleeps complete\n"
MB = 1024 * 1024
COMMAND_TIMEOUT = 30


def loong_path():
    build = pathlib.Path(os.environ.get("LOONG_BUILD", ROOT / "build"))
    return build / "bin" / "loong"


def env_for_target():
    """The environment of a target: with a sanitizer build, ASan first."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LOONG_", "PYTHON"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if b"__asan_init" in loong_path().read_bytes():
        lib = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()
        # no quarantine: ASan holds freed blocks back (256 MB by default),
        # which would show as RSS growth in the cycles' bound
        env.update({"LD_PRELOAD": lib,
                    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:"
                                    "quarantine_size_mb=0:exitcode=86"})
    return env


def counts(pid):
    return (len(os.listdir("/proc/%d/task" % pid)),
            len(os.listdir("/proc/%d/fd" % pid)))


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def sock_of(pid):
    return "/tmp/loong-%d/%d.sock" % (os.geteuid(), pid)


def wait_for(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


class Target:
    def __init__(self, python):
        self.p = subprocess.Popen([python, str(TARGET)],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE,
                                  env=env_for_target())
        ready, _, _ = select.select([self.p.stdout], [], [], 20)
        if not ready or self.p.stdout.readline() != b"ready\n":
            self.p.kill()
            raise RuntimeError("%s: the target did not start" % python)
        self.pid = self.p.pid
        # let its threads settle
        time.sleep(0.2)
        self.base = counts(self.pid)

    def alive(self):
        return self.p.poll() is None

    def finish(self):
        """Close its stdin; (output, stderr, status)."""
        out, err = self.p.communicate(b"", timeout=30)
        return b"ready\n" + out, err, self.p.returncode

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def loong(*args):
    """(status, stderr) of one loong command; raises on a hang."""
    r = subprocess.run([str(loong_path())] + [str(a) for a in args],
                       capture_output=True, timeout=COMMAND_TIMEOUT,
                       env=env_for_target())
    return r.returncode, r.stderr.decode(errors="replace").strip()


def cycles(python, n, out, log=print):
    """n attach/load/unload/detach cycles; a dict of figures and failures."""
    t = Target(python)
    res = {"cycles": 0, "failures": [], "rss_start": rss(t.pid)}
    t0 = time.monotonic()
    try:
        for i in range(n):
            for args in (("attach", "-o", out, t.pid),
                         ("load", t.pid, "function"),
                         ("unload", t.pid, "function"),
                         ("detach", t.pid)):
                try:
                    st, err = loong(*args)
                except subprocess.TimeoutExpired:
                    res["failures"].append("cycle %d: loong %s hung"
                                           % (i, args[0]))
                    return res
                if st != 0:
                    res["failures"].append("cycle %d: loong %s: %s"
                                           % (i, args[0], err))
                    return res
            if not wait_for(lambda: counts(t.pid) == t.base):
                res["failures"].append(
                    "cycle %d: threads, fds %s, not back to %s"
                    % (i, counts(t.pid), t.base))
                return res
            if os.path.exists(sock_of(t.pid)):
                res["failures"].append("cycle %d: socket left" % i)
                return res
            if i == 0:
                res["rss_first"] = rss(t.pid)
            res["cycles"] = i + 1
            # the detached output folders are not needed
            if i % 50 == 49:
                for d in pathlib.Path(out).iterdir():
                    shutil.rmtree(d, ignore_errors=True)
        res["rss_end"] = rss(t.pid)
        res["seconds"] = time.monotonic() - t0
        if n and res["rss_end"] - res["rss_first"] >= 5 * MB:
            res["failures"].append("RSS grew by %.1f MB"
                                   % ((res["rss_end"] - res["rss_first"])
                                      / MB))
        stdout, stderr, status = t.finish()
        if (stdout, status) != (EXPECTED, 3) or stderr:
            res["failures"].append("output %r, status %s, stderr %r"
                                   % (stdout, status, stderr[-500:]))
    finally:
        t.kill()
    return res


def load_time(t, out):
    """How long one whole `loong load` takes on this target (s)."""
    t0 = time.monotonic()
    loong("load", "-o", out, t.pid, "function")
    took = time.monotonic() - t0
    loong("detach", t.pid)
    return took


def kills(python, n, out, seed=None):
    """n loong load commands SIGKILLed at random points."""
    rnd = random.Random(seed)
    t = Target(python)
    res = {"kills": 0, "failures": [], "reached": {}}
    t0 = time.monotonic()
    try:
        span = max(load_time(t, out), 0.005) * 1.2
        res["span_ms"] = span * 1000
        for i in range(n):
            c = subprocess.Popen([str(loong_path()), "load", "-o", str(out),
                                  str(t.pid), "function"],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 env=env_for_target())
            time.sleep(rnd.uniform(0, span))
            c.kill()
            c.wait()
            if not t.alive():
                res["failures"].append("kill %d: the target died" % i)
                return res
            # what the command had reached: nothing, the runtime, or more.
            # The stub may still be running: give it a moment.
            time.sleep(0.02)
            reached = "nothing"
            if os.path.exists(sock_of(t.pid)):
                try:
                    st, err = loong("detach", t.pid)
                except subprocess.TimeoutExpired:
                    res["failures"].append("kill %d: detach hung" % i)
                    return res
                reached = "runtime" if st == 0 else "socket"
            res["reached"][reached] = res["reached"].get(reached, 0) + 1
            res["kills"] = i + 1
        # a stub still finishing by itself: its socket comes later
        time.sleep(0.2)
        if os.path.exists(sock_of(t.pid)):
            loong("detach", t.pid)
        if not wait_for(lambda: counts(t.pid) == t.base):
            res["failures"].append("after the kills: threads, fds %s, not "
                                   "back to %s" % (counts(t.pid), t.base))
        res["seconds"] = time.monotonic() - t0
        stdout, stderr, status = t.finish()
        if (stdout, status) != (EXPECTED, 3) or stderr:
            res["failures"].append("output %r, status %s, stderr %r"
                                   % (stdout, status, stderr[-500:]))
    finally:
        t.kill()
    return res


def find_pythons():
    out = subprocess.run([str(ROOT / "tools" / "find-pythons")],
                         capture_output=True, text=True, check=True).stdout
    return [line.split(None, 1)[1] for line in out.splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=500)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--python", action="append",
                    help="an interpreter (default: every CPython found)")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    pythons = a.python or find_pythons()
    failed = False
    for py in pythons:
        name = os.path.basename(py)
        out = tempfile.mkdtemp(prefix="loong-stress-")
        try:
            c = cycles(py, a.cycles, out)
            line = "%s: %d/%d cycles" % (name, c["cycles"], a.cycles)
            if "rss_end" in c:
                line += (", RSS %.1f MB before, %.1f MB after the first, "
                         "%.1f MB after the last (+%.2f MB), %.1f s "
                         "(%.0f ms a cycle)"
                         % (c["rss_start"] / MB, c["rss_first"] / MB,
                            c["rss_end"] / MB,
                            (c["rss_end"] - c["rss_first"]) / MB,
                            c["seconds"],
                            1000 * c["seconds"] / max(a.cycles, 1)))
            print(line, flush=True)
            k = kills(py, a.kills, out, a.seed)
            line = "%s: %d/%d kills" % (name, k["kills"], a.kills)
            if "seconds" in k:
                line += (" within %.0f ms of the start, reached: %s; %.1f s"
                         % (k["span_ms"], ", ".join(
                             "%s %d" % kv for kv in sorted(
                                 k["reached"].items())), k["seconds"]))
            print(line, flush=True)
            for f in c["failures"] + k["failures"]:
                failed = True
                print("%s: FAILED: %s" % (name, f), flush=True)
        finally:
            shutil.rmtree(out, ignore_errors=True)
    print("stress: %s" % ("FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main())
