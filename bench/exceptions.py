#!/usr/bin/env python3
"""The exception toolkit's cost: per exception (bench/workloads/raising.py,
200,000 exceptions) and on code that raises none (recursion.py), for every
CPython with a loong runtime. Minimum CPU time (user + system) of N runs,
no loong against `loong run -t exception`.

    python3 bench/exceptions.py [-n 5] [--markdown bench/RESULTS.md]"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile

from pythons import found

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOONG = os.path.join(ROOT, "build", "bin", "loong")
W = os.path.join(ROOT, "bench", "workloads")
N_EXC = 200000


def cpu(cmd, n):
    best = None
    for _ in range(n):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        best = t if best is None else min(best, t)
    return best


def main(argv):
    p = argparse.ArgumentParser(prog="bench/exceptions.py")
    p.add_argument("-n", type=int, default=5)
    p.add_argument("--markdown")
    a = p.parse_args(argv)
    pythons = found()
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for ver, py in pythons:
            loong = [LOONG, "run", "-t", "exception", "-o", out, "--", py]
            r0 = cpu([py, os.path.join(W, "raising.py")], a.n)
            r1 = cpu(loong + [os.path.join(W, "raising.py")], a.n)
            c0 = cpu([py, os.path.join(W, "recursion.py")], a.n)
            c1 = cpu(loong + [os.path.join(W, "recursion.py")], a.n)
            rows.append((ver, r0, r1, (r1 - r0) / N_EXC * 1e6, c0, c1))
            print("%s: raising %.3f -> %.3f s (%.2f us per exception); "
                  "no exceptions %.3f -> %.3f s (%.2fx)"
                  % (ver, r0, r1, rows[-1][3], c0, c1, c1 / c0), flush=True)
    if a.markdown:
        with open(a.markdown, "a") as f:
            f.write("\n## The exception toolkit\n\nCommand: `python3 bench/"
                    "exceptions.py %s` (minimum CPU time of %d runs)\n\n"
                    % (" ".join(argv), a.n))
            f.write("| python | raising.py none | with -t exception | per "
                    "exception | recursion.py none | with -t exception | "
                    "ratio |\n|---|---:|---:|---:|---:|---:|---:|\n")
            for ver, r0, r1, per, c0, c1 in rows:
                f.write("| %s | %.3f s | %.3f s | %.2f us | %.3f s | %.3f s "
                        "| %.2fx |\n" % (ver, r0, r1, per, c0, c1, c1 / c0))


if __name__ == "__main__":
    main(sys.argv[1:])
