#!/usr/bin/env python3
"""A profiler's cost to the program, measured inside one process: the
profiler is switched on and off in alternate windows of a running kernel
(bench/workloads/toggle_target.py, under `loong run` with no toolkit), and
each on window is compared with the off window next to it. On a machine
whose speed drifts by 10-30% from one process to the next (a shared VM),
this resolves a few percent where whole runs cannot.

    python3 bench/toggle_cost.py sample [--python python3.12]...
        [--pairs 20] [--window 0.4] [--markdown F]
    python3 bench/toggle_cost.py alloc ...

Sets: `sample` (sample mode at 100 and 1000 Hz, on recursion, methods and
a 60-frame deep stack), `alloc` (on the allocation kernel: -t mem alone,
its gauges; allocation sampling alone, at the default 512 KiB mean, as
-t mem:alloc=yes in the on windows and -t mem in the off ones; -t
mem:alloc=yes against nothing; tracemalloc with one frame). Each set
also runs `null`: windows where nothing changes, the method's own noise.

Cost = off throughput / on throughput - 1, median over the pairs, with the
quartiles of the pairs in brackets, and the fastest off window over the
fastest on window (best); throughput per second of wall time, and per
second of the process's CPU time. Not a test: a measurement."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOONG = os.path.join(ROOT, "build", "bin", "loong")
TARGET = os.path.join(ROOT, "bench", "workloads", "toggle_target.py")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from steady_cost import emit, pythons  # noqa: E402

SETS = {
    "sample": (["null", "sample100", "sample1000"],
               ["recursion", "methods", "deep"]),
    "alloc": (["null", "gauges", "sampling", "alloc", "tracemalloc"],
              ["allocs"]),
}
LABELS = {"null": "null (nothing switched)", "sample100": "sample 100 Hz",
          "sample1000": "sample 1000 Hz", "gauges": "-t mem (gauges)",
          "sampling": "alloc=yes over -t mem", "alloc": "-t mem:alloc=yes",
          "tracemalloc": "tracemalloc, 1 frame"}


def costs(py, kind, kernel, pairs, window, out):
    """The pairs' costs by wall time and by CPU time."""
    r = subprocess.run([LOONG, "run", "-o", out, "--", py, TARGET, kind,
                        kernel, str(pairs), str(window)],
                       capture_output=True, text=True, check=True)
    d = json.loads(r.stdout.strip().splitlines()[-1])
    return tuple(([a / b - 1 for a, b in zip(d[off], d[on])],
                  max(d[off]) / max(d[on]) - 1)
                 for off, on in (("off", "on"), ("off_cpu", "on_cpu")))


def cell(got):
    c, best = got
    q = statistics.quantiles(c, n=4)
    return "%+.1f%% [%+.1f%%, %+.1f%%] best %+.1f%%" % (
        statistics.median(c) * 100, q[0] * 100, q[2] * 100, best * 100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", choices=sorted(SETS))
    ap.add_argument("--python", action="append", default=[])
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--window", type=float, default=0.4)
    ap.add_argument("--markdown", help="append the tables to this file")
    a = ap.parse_args()
    kinds, kernels = SETS[a.set]
    out = tempfile.mkdtemp(prefix="loong-toggle-")
    lines = ["### Switched on and off in one process, set %s: %s" % (
        a.set, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())), "",
        "Command: `python3 bench/toggle_cost.py %s`" % " ".join(sys.argv[1:]),
        "", "| python | kernel | clock | " +
        " | ".join(LABELS[k] for k in kinds) + " |",
        "|---|---|---|" + "---:|" * len(kinds)]
    for version, py in pythons(a.python):
        for kernel in kernels:
            got = [costs(py, k, kernel, a.pairs, a.window, out)
                   for k in kinds]
            for i, clock in enumerate(("wall", "cpu")):
                lines.append("| %s | %s | %s | %s |" % (
                    version, kernel, clock,
                    " | ".join(cell(g[i]) for g in got)))
                print(lines[-1], flush=True)
    lines += ["", "Each cell: the program's slowdown while switched on "
              "(throughput of the off window over the on window next to "
              "it, minus 1), median over %d pairs of %g s windows "
              "[first, third quartile]; best: the fastest off window over "
              "the fastest on window, minus 1 (another VM can only slow a "
              "window down). Throughput per second of wall "
              "time, and per second of the process's CPU time (all its "
              "threads; time another VM held the CPU left out)."
              % (a.pairs, a.window), ""]
    emit(lines, a.markdown)


if __name__ == "__main__":
    main()
