#!/usr/bin/env python3
"""Trace mode against cProfile on one workload, quickly: minimum CPU time
(user + system) of N runs each of no profiler, `loong run -t example`,
`loong run -t function` and cProfile, and the ratio of loong's slowdown to
cProfile's, ((function) - (none)) / ((cProfile) - (none)).

    N=5 PY=python3.12 python3 bench/cpu_ratio.py bench/workloads/recursion.py"""
import os
import resource
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
py = os.environ.get("PY", "python3")
n = int(os.environ.get("N", "5"))
w = sys.argv[1]
L = os.path.join(ROOT, "build", "bin", "loong")
out = "/tmp/loong-cpu-ratio"


def cpu(cmd):
    best = None
    for _ in range(n):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        best = t if best is None else min(best, t)
    return best


cols = {"none": [py, w],
        "example": [L, "run", "-t", "example", "-o", out, "--", py, w],
        "function": [L, "run", "-t", "function", "-o", out, "--", py, w],
        "cprofile": [py, "-m", "cProfile", "-o", os.devnull, w]}
r = {k: cpu(v) for k, v in cols.items()}
print(w, " ".join("%s=%.3f" % kv for kv in r.items()),
      "ratio=%.2f" % ((r["function"] - r["none"]) /
                      (r["cprofile"] - r["none"])))
