"""Run inside `loong run` (no toolkit) by bench/toggle_cost.py: one kernel
without pause, a profiler switched on and off in alternate windows, the
work done in each window counted. Adjacent windows make a pair, so the
machine's drift (another VM on the host, the CPU's clock) cancels at the
scale of one window instead of one process.

    toggle_target.py KIND KERNEL PAIRS WINDOW_S

KIND: null (nothing changes: the method's own noise), sample100,
sample1000 (loong.load("function", mode="sample", hz=...)), gauges
(loong.load("mem"): the memory gauges alone), alloc (loong.load("mem",
alloc="yes")), sampling (mem loaded throughout, reloaded with alloc="yes"
for the on windows: allocation sampling's own cost), tracemalloc
(tracemalloc.start(1)).
Prints one JSON line: the units done per second of wall time in each off
and on window, and per second of the process's CPU time (off_cpu,
on_cpu)."""
import json
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import throughput  # noqa: E402

import loong  # noqa: E402

SETTLE = 0.1  # after a switch, before counting

UNITS = {
    "recursion": lambda: throughput.fib(15),
    "methods": throughput.methods_unit,
    "deep": lambda: throughput.down(60, lambda: throughput.fib(12)),
    "allocs": throughput.allocs_unit,
}


def switch(kind, on):
    if kind == "null":
        return
    if kind == "tracemalloc":
        tracemalloc.start(1) if on else tracemalloc.stop()
        return
    name = "mem" if kind in ("alloc", "gauges", "sampling") else "function"
    if kind == "sampling":  # mem stays loaded: only alloc= changes
        loong.unload("mem")
        loong.load("mem", alloc="yes") if on else loong.load("mem")
    elif not on:
        loong.unload(name)
    elif kind == "alloc":
        loong.load("mem", alloc="yes")
    elif kind == "gauges":
        loong.load("mem")
    else:
        loong.load("function", mode="sample", hz=kind[len("sample"):])


def window(unit, seconds):
    """Units per second of wall time and per second of the process's CPU
    time (which leaves out the time another VM held this CPU)."""
    end = time.monotonic() + SETTLE
    while time.monotonic() < end:
        unit()
    n, t0, c0 = 0, time.monotonic(), time.process_time()
    while time.monotonic() < t0 + seconds:
        unit()
        n += 1
    return n / (time.monotonic() - t0), n / (time.process_time() - c0)


def main():
    kind, kernel = sys.argv[1], sys.argv[2]
    pairs, seconds = int(sys.argv[3]), float(sys.argv[4])
    unit = UNITS[kernel]
    if kind == "sampling":
        loong.load("mem")
    window(unit, 0.5)  # warm-up
    off, on = [], []
    for i in range(pairs):
        # alternate which comes first, so a trend within a pair cancels
        for state in ((False, True) if i % 2 == 0 else (True, False)):
            if state:
                switch(kind, True)
                on.append(window(unit, seconds))
                switch(kind, False)
            else:
                off.append(window(unit, seconds))
    print(json.dumps({"off": [w for w, c in off], "on": [w for w, c in on],
                      "off_cpu": [c for w, c in off],
                      "on_cpu": [c for w, c in on]}))


main()
