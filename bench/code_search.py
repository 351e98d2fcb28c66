#!/usr/bin/env python3
"""What sample mode's registration passes cost the program: how long each
holds the interpreter lock (the program waits) while it reads every
thread's stack and searches the module a new code ran in, for modules of
N functions (and N/10 classes of 10 methods each), on every CPython with a
loong runtime. The figures are the runtime's own (meta.json:
sample_locked, sample_locked_us, sample_locked_max_us).

The program calls, 3% of the time, a function defined last in that
module, so that passes seldom find it on a stack and search the module.

    python3 bench/code_search.py [--sizes 100,1000,10000] [--python 3.12]..."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from pythons import found

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOONG = os.path.join(ROOT, "build", "bin", "loong")

MAIN = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import big
end = time.perf_counter() + 3
while time.perf_counter() < end:
    t = time.perf_counter()
    while time.perf_counter() - t < 0.01:
        pass
    big.rare()
"""


def module(n):
    lines = ["import time"]
    lines += ["def f%d(x):\n    return x + %d" % (i, i) for i in range(n)]
    for c in range(n // 10):
        lines.append("class C%d:" % c)
        lines += ["    def m%d(self):\n        return %d" % (j, j)
                  for j in range(10)]
    lines.append("def rare():\n    t = time.perf_counter()\n"
                 "    while time.perf_counter() - t < 0.0003:\n        pass")
    return "\n".join(lines) + "\n"


def run(py, n):
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "big.py"), "w") as f:
            f.write(module(n))
        out = os.path.join(tmp, "out")
        r = subprocess.run(
            [LOONG, "run", "-o", out, "-t", "function:mode=sample,hz=1000",
             "--", py, "-c", MAIN, tmp], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("%s failed: %s" % (py, r.stderr))
        (d,) = os.listdir(out)
        with open(os.path.join(out, d, "meta.json")) as f:
            return json.load(f)


def main(argv):
    p = argparse.ArgumentParser(prog="bench/code_search.py")
    p.add_argument("--sizes", default="100,1000,10000")
    p.add_argument("--python", action="append",
                   help="only these minors (3.12); repeatable")
    a = p.parse_args(argv)
    pythons = found(a.python)
    print("| python | functions in the module | passes | lock held: "
          "mean | longest | in all, over 3 s |")
    print("|---|---:|---:|---:|---:|---:|")
    for ver, py in pythons:
        for n in (int(s) for s in a.sizes.split(",")):
            m = run(py, n)
            k, us = m["sample_locked"], m["sample_locked_us"]
            print("| %s | %d (+%d methods) | %d | %.2f ms | %.2f ms | "
                  "%.2f ms |" % (ver, n, n, k, us / max(k, 1) / 1e3,
                                 m["sample_locked_max_us"] / 1e3, us / 1e3),
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
