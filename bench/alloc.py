#!/usr/bin/env python3
"""The cost of allocation sampling: an allocation-heavy workload
(bench/workloads/allocs.py) without loong, with `loong run -t mem` (gauges
only), with `-t mem:alloc=yes` (sampling at the default 512 KiB mean), and
with tracemalloc keeping one frame (`python -X tracemalloc=1`), for every
CPython with a loong runtime. Minimum CPU time (user + system) and minimum
wall time of N runs each; ratios to the run without loong.

    python3 bench/alloc.py [-n 5] [--markdown bench/RESULTS.md]"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from pythons import found

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOONG = os.path.join(ROOT, "build", "bin", "loong")
WORKLOAD = os.path.join(ROOT, "bench", "workloads", "allocs.py")


def measure(cmd, n):
    best_cpu = best_wall = None
    for _ in range(n):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
        best_wall = wall if best_wall is None else min(best_wall, wall)
    return best_cpu, best_wall


def main(argv):
    p = argparse.ArgumentParser(prog="bench/alloc.py")
    p.add_argument("-n", type=int, default=5)
    p.add_argument("--markdown")
    p.add_argument("--python", action="append",
                   help="only these minors (3.12); repeatable")
    a = p.parse_args(argv)
    pythons = found(a.python)
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for ver, py in pythons:
            def loong(tk):
                return [LOONG, "run", "-t", tk, "-o", out, "--", py, WORKLOAD]
            base = measure([py, WORKLOAD], a.n)
            gauges = measure(loong("mem"), a.n)
            alloc = measure(loong("mem:alloc=yes"), a.n)
            tm = measure([py, "-X", "tracemalloc=1", WORKLOAD], a.n)
            rows.append((ver, base, gauges, alloc, tm))
            print("%s: none %.3f s cpu / %.3f s wall; mem %.3fx/%.3fx; "
                  "mem:alloc=yes %.3fx/%.3fx; tracemalloc=1 %.2fx/%.2fx"
                  % (ver, base[0], base[1], gauges[0] / base[0],
                     gauges[1] / base[1], alloc[0] / base[0],
                     alloc[1] / base[1], tm[0] / base[0], tm[1] / base[1]),
                  flush=True)
    if a.markdown:
        with open(a.markdown, "a") as f:
            f.write("\n## Allocation sampling (the mem toolkit)\n\n"
                    "Command: `python3 bench/alloc.py %s` (bench/workloads/"
                    "allocs.py, about 7 million allocations; minimum of %d "
                    "runs; CPU = user + system; ratios to no loong)\n\n"
                    % (" ".join(argv), a.n))
            f.write("| python | none cpu s | none wall s | -t mem | "
                    "-t mem:alloc=yes | -X tracemalloc=1 |\n"
                    "|---|---:|---:|---:|---:|---:|\n")
            for ver, base, g, al, tm in rows:
                f.write("| %s | %.3f | %.3f | %.3fx / %.3fx | %.3fx / %.3fx "
                        "| %.2fx / %.2fx |\n"
                        % (ver, base[0], base[1], g[0] / base[0],
                           g[1] / base[1], al[0] / base[0], al[1] / base[1],
                           tm[0] / base[0], tm[1] / base[1]))
            f.write("\n(cpu / wall ratios)\n")


if __name__ == "__main__":
    main(sys.argv[1:])
