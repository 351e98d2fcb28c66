#!/usr/bin/env python3
"""The cost of the mem toolkit's allocator figures: how long the
interpreter lock is held (the program waits) while pymalloc's arenas are
walked and the free lists read (api->allocator_stats, reported by the
toolkit itself as `allocator_stats_us`), for heaps of 0 to N GB of small
objects, on every CPython with a loong runtime; and what glibc's
mallinfo2() costs (the `libc` option) on a heap of many free chunks.

    python3 bench/memstats.py [--gb 0,0.5,1,2] [--python 3.12]..."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from pythons import found

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOONG = os.path.join(ROOT, "build", "bin", "loong")

# GB of 2-tuples of distinct ints (about 100 bytes of pymalloc blocks
# each), held while loong ticks every 100 ms for 3 s
HOLD = r"""
import sys, time
n = int(float(sys.argv[1]) * (1 << 30) / 100)
held = [(i, -i) for i in range(n)]
open(sys.argv[2], "w").close()
time.sleep(3)
"""

# free chunks in glibc's heap: bytes objects of 600-700 bytes (they come
# from malloc), every other one dropped so that none can merge; the
# program times mallinfo2() itself (ctypes) into the file argv[2]
FRAGMENT = r"""
import ctypes, sys, time
class MI2(ctypes.Structure):
    _fields_ = [(k, ctypes.c_size_t) for k in "arena ordblks smblks hblks "
                "hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
mi2 = ctypes.CDLL(None).mallinfo2
mi2.restype = MI2
n = int(sys.argv[1])
held = [b"x" * (600 + (i % 7) * 16) for i in range(n)]
del held[::2]
ts = []
for _ in range(5):
    t = time.perf_counter()
    m = mi2()
    ts.append(time.perf_counter() - t)
with open(sys.argv[2], "w") as f:
    f.write("%d %f" % (m.ordblks, sorted(ts)[2] * 1e3))
time.sleep(3)
"""


def points(path):
    out = []
    for line in open(path):
        if not line.startswith("loong_mem,"):
            continue
        fields = line.split(" ")[1]
        out.append(dict((k, int(v.rstrip("i"))) for k, v in
                        (kv.split("=") for kv in fields.split(","))))
    return out


def run(py, prog, arg, tk):
    with tempfile.TemporaryDirectory() as out:
        ready = os.path.join(out, "ready")
        subprocess.run([LOONG, "run", "-t", tk, "-o", out, "--interval",
                        "100ms", "--", py, "-c", prog, str(arg), ready],
                       check=True, stdout=subprocess.DEVNULL)
        d = [e for e in os.listdir(out) if os.path.isdir(os.path.join(out, e))]
        pts = points(os.path.join(out, d[0], "metrics.lp"))
        log = open(os.path.join(out, d[0], "loong.log")).read()
        return pts, log, open(ready).read()


def main(argv):
    p = argparse.ArgumentParser(prog="bench/memstats.py")
    p.add_argument("--gb", default="0,0.5,1,2")
    p.add_argument("--python", action="append",
                   help="only these minors (3.12); repeatable")
    a = p.parse_args(argv)
    pythons = found(a.python)
    print("| python | pymalloc_allocated_bytes | arenas | lock held: "
          "median | max | per GB (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for ver, py in pythons:
        for gb in a.gb.split(","):
            pts, _, _ = run(py, HOLD, gb, "mem:libc=no")
            # the points of the full heap: the most arenas
            top = max(x.get("pymalloc_arenas", 0) for x in pts)
            full = [x for x in pts if x.get("pymalloc_arenas") == top]
            us = [x["allocator_stats_us"] for x in full]
            gbs = full[-1]["pymalloc_allocated_bytes"] / (1 << 30)
            med = statistics.median(us) / 1e3
            print("| %s | %.2f GB | %d | %.2f ms | %.2f ms | %s |"
                  % (ver, gbs, top, med, max(us) / 1e3,
                     "%.1f ms" % (med / gbs) if gbs > 0.25 else "-"),
                  flush=True)
    ver, py = pythons[-1]
    print("\nglibc's mallinfo2() on a fragmented heap (%s, 100 ms ticks "
          "for about 3 s):\n" % ver)
    print("| blocks made, half dropped | free chunks | mallinfo2 (median "
          "of 5) | points with libc_ fields |")
    print("|---:|---:|---:|---|")
    for n in (100000, 400000, 1000000):
        pts, log, timing = run(py, FRAGMENT, n, "mem:pymalloc=no")
        chunks, ms = timing.split()
        off = [l for l in log.splitlines() if "mallinfo2" in l]
        print("| %d | %s | %.1f ms | %d of %d%s |" % (
            n, chunks, float(ms), sum("libc_heap_bytes" in x for x in pts),
            len(pts), "; turned off" if off else ""), flush=True)

if __name__ == "__main__":
    main(sys.argv[1:])
