#!/usr/bin/env python3
"""Memory over a long run: does loong's memory grow once the program's
stacks are known? Runs one steady workload (the same code paths again and
again, several threads) for --minutes under `loong run` with the given
toolkit, and reads the process's RSS every --every seconds.

    python3 bench/memory.py --python python3.12 --minutes 10 \
        --toolkit function --markdown bench/RESULTS.md

Prints RSS over time and the growth after warm-up (the first minute). Not a
test: a measurement, recorded in bench/RESULTS.md."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOONG = os.path.join(ROOT, "build", "bin", "loong")
STEADY = os.path.join(ROOT, "bench", "workloads", "steady.py")


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main(argv):
    p = argparse.ArgumentParser(prog="bench/memory.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default="python3")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--every", type=float, default=10, metavar="SECONDS")
    p.add_argument("--toolkit", default="function",
                   help="-t argument (default: function)")
    p.add_argument("--markdown", metavar="FILE",
                   help="append the table and the command line to FILE")
    a = p.parse_args(argv)
    if not os.access(LOONG, os.X_OK):
        sys.exit("bench/memory.py: %s not found: run 'make' first" % LOONG)
    seconds = a.minutes * 60
    with tempfile.TemporaryDirectory(prefix="loong-mem-") as out:
        cmd = [LOONG, "run", "-t", a.toolkit, "-o", out, "--", a.python,
               STEADY, str(seconds)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        t0 = time.monotonic()
        rows = []
        while proc.poll() is None:
            r = rss_kb(proc.pid)
            if r is not None:
                rows.append((time.monotonic() - t0, r))
                print("%7.1f s  %8d KiB" % rows[-1], flush=True)
            time.sleep(a.every)
        out_s = proc.stdout.read().decode().strip()
        if proc.returncode != 0:
            sys.exit("bench/memory.py: the workload failed (%d)"
                     % proc.returncode)
    warm = [r for t, r in rows if t >= 60] or [r for t, r in rows]
    growth = warm[-1] - warm[0]
    summary = ("RSS after the first minute: %d KiB; at the end: %d KiB; "
               "growth %+d KiB (%+.2f%%) over %.0f s; max %d KiB; "
               "workload: %s" % (warm[0], warm[-1], growth,
                                 100.0 * growth / warm[0], rows[-1][0],
                                 max(r for t, r in rows), out_s))
    print(summary)
    if a.markdown:
        with open(a.markdown, "a") as f:
            f.write("\n### Memory over %.0f minutes: `-t %s`, %s\n\n"
                    % (a.minutes, a.toolkit, a.python))
            f.write("Command: `python3 bench/memory.py %s`\n\n"
                    % " ".join(argv))
            f.write("| seconds | RSS KiB |\n|---|---|\n")
            for t, r in rows:
                f.write("| %.0f | %d |\n" % (t, r))
            f.write("\n%s\n" % summary)


if __name__ == "__main__":
    main(sys.argv[1:])
