#!/usr/bin/env python3
"""A toolkit's cost to the program, resolved finely: the program's own
throughput (bench/workloads/throughput.py: work done per second after a
warm-up, so start-up and exit do not count) without loong and under each
column's loong command. Runs are interleaved (the order rotates each
repetition) and compared in pairs, so slow drifts of the machine cancel.

    python3 bench/steady_cost.py sample [--python python3.12]... [-n 7]
        [--seconds 4] [--kernels recursion,deep,threads] [--markdown F]
    python3 bench/steady_cost.py alloc ...

Sets of columns: `sample` (loong run with no toolkit, -t function in
sample mode at 100 and 1000 Hz) on the call kernels; `alloc` (-t mem,
-t mem:alloc=yes at the default 512 KiB mean, and tracemalloc with one
frame, `python -X tracemalloc=1`) on the allocation kernel.

Slowdown = throughput without loong / throughput with it, the median over
the pairs, with the lowest and highest pair in brackets. "cpu/s" is the
whole process's CPU seconds per wall second (a sampler thread's own CPU
included, spent on another core). Not a test: a measurement."""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOONG = os.path.join(ROOT, "build", "bin", "loong")
WORK = os.path.join(ROOT, "bench", "workloads", "throughput.py")

SETS = {
    "sample": ([("loong run, no toolkit", []),
                ("sample 100 Hz", ["-t", "function:mode=sample,hz=100"]),
                ("sample 1000 Hz", ["-t", "function:mode=sample,hz=1000"])],
               "recursion,methods,deep,threads,asyncio"),
    "alloc": ([("-t mem", ["-t", "mem"]),
               ("-t mem:alloc=yes", ["-t", "mem:alloc=yes"]),
               ("tracemalloc, 1 frame", "tracemalloc")],
              "allocs"),
}
COLUMNS = []


def emit(lines, markdown):
    """Print the table, and append it to the markdown file if one is
    given."""
    text = "\n".join(lines)
    print(text)
    if markdown:
        with open(markdown, "a") as f:
            f.write("\n" + text)


def pythons(wanted):
    """(label, path) for each wanted version ("3.12", found with
    tools/find-pythons) or path; by default 3.11 to 3.13."""
    out = subprocess.run([os.path.join(ROOT, "tools", "find-pythons")],
                         capture_output=True, text=True).stdout
    found = dict(line.split()[:2] for line in out.splitlines() if line)
    if wanted:
        return [(w, found.get(w, w)) for w in wanted]
    return [(v, found[v]) for v in ("3.11", "3.12", "3.13") if v in found]


def one(py, args, kernel, seconds, out):
    cmd = [py, WORK, kernel, str(seconds)]
    if args == "tracemalloc":
        cmd = [py, "-X", "tracemalloc=1", WORK, kernel, str(seconds)]
    elif args is not None:
        cmd = [LOONG, "run", "-o", out] + args + ["--"] + cmd
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    ops = float(r.stdout.split()[-1])
    return ops, cpu / wall


def measure(py, kernel, n, seconds, out):
    ops = {c: [] for c, _ in COLUMNS}
    cpu = {c: [] for c, _ in COLUMNS}
    for rep in range(n):
        order = COLUMNS[rep % len(COLUMNS):] + COLUMNS[:rep % len(COLUMNS)]
        for name, args in order:
            o, c = one(py, args, kernel, seconds, out)
            ops[name].append(o)
            cpu[name].append(c)
    return ops, cpu


def cell(base, ops, cpu):
    pairs = [b / o for b, o in zip(base, ops)]
    return "%+.1f%% [%+.1f%%, %+.1f%%], cpu/s %.2f" % (
        (statistics.median(pairs) - 1) * 100, (min(pairs) - 1) * 100,
        (max(pairs) - 1) * 100, statistics.median(cpu))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", choices=sorted(SETS))
    ap.add_argument("--python", action="append", default=[])
    ap.add_argument("-n", type=int, default=7, help="repetitions")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--kernels", help="comma-separated (default: the "
                    "set's own)")
    ap.add_argument("--markdown", help="append the tables to this file")
    a = ap.parse_args()
    COLUMNS[:] = [("none", None)] + SETS[a.set][0]
    kernels = (a.kernels or SETS[a.set][1]).split(",")
    out = tempfile.mkdtemp(prefix="loong-sample-bench-")
    lines = ["### Steady-state cost, set %s: %s" % (a.set, time.strftime(
        "%Y-%m-%d %H:%M UTC", time.gmtime())), "",
             "Command: `python3 bench/steady_cost.py %s`" % " ".join(
                 sys.argv[1:]), ""]
    for version, py in pythons(a.python):
        lines += ["#### Python %s, %d pairs of %g s runs" % (
            version, a.n, a.seconds), "",
            "| kernel | none: ops/s, cpu/s | " +
            " | ".join(c for c, _ in COLUMNS[1:]) + " |",
            "|---|---:|" + "---:|" * (len(COLUMNS) - 1)]
        for k in kernels:
            ops, cpu = measure(py, k, a.n, a.seconds, out)
            base = ops["none"]
            row = ["%.0f, %.2f" % (statistics.median(base),
                                   statistics.median(cpu["none"]))]
            row += [cell(base, ops[c], cpu[c]) for c, _ in COLUMNS[1:]]
            lines.append("| %s | %s |" % (k, " | ".join(row)))
            print(lines[-1], flush=True)
        lines.append("")
    lines += ["Each cell: the program's slowdown (throughput without loong "
              "over throughput with it, minus 1), median over the pairs "
              "[lowest, highest pair]; cpu/s: the process's CPU seconds "
              "per wall second, median.", ""]
    emit(lines, a.markdown)


if __name__ == "__main__":
    main()
