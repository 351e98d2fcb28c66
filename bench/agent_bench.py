#!/usr/bin/env python3
"""Throughput of loongd: points received on its unix datagram socket,
validated, batched and written to a file output, with loongd pinned to one
CPU (taskset) and the sender on another.

    python3 bench/agent_bench.py [--points 2000000] [--cpu 0] [--runs 3]

The points are lines as the runtime writes them (loong_function with its
tags, about 200 bytes), packed into datagrams of whole lines up to 8 KiB as
the runtime's sink sends them. The sender blocks when loongd's socket is
full, so nothing is dropped and the rate is loongd's. A run ends when
loongd says (status socket) that every line is written; the rate is
points / (end - first send). loongd's CPU time comes from /proc.
"""
import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
LOONGD = pathlib.Path(os.environ.get("LOONG_BUILD", ROOT / "build")) / \
    "bin" / "loongd"


def lines(n):
    funcs = ["handler", "Model.save", "render<locals>.inner", "parse_row",
             "json.dumps", "Session.query", "compute_totals", "__init__"]
    ts = 1795531295956122657
    out = []
    for i in range(n):
        f = funcs[i % len(funcs)]
        out.append(
            ("loong_function,function=%s,module=app.m%d,file=/srv/app/m%d.py,"
             "line=%d,host=web-3,program=app,pid=%d calls=%di,total_us=%d.5,"
             "self_us=%d.25,max_us=%di %d\n"
             % (f, i % 50, i % 50, 10 + i % 400, 4000 + i % 7, 1 + i % 1000,
                i % 99991, i % 9973, i % 5000, ts + i)).encode())
    return out


def datagrams(ls, cap=8192):
    out, cur = [], b""
    for l in ls:
        if cur and len(cur) + len(l) > cap:
            out.append(cur)
            cur = b""
        cur += l
    if cur:
        out.append(cur)
    return out


def status(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    return json.loads(data)


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def one_run(dgrams, npoints, cpu, tmp):
    sock = os.path.join(tmp, "loongd.sock")
    out = os.path.join(tmp, "out.lp")
    if os.path.exists(out):
        os.unlink(out)
    cmd = ["taskset", "-c", str(cpu), str(LOONGD), "--socket", sock,
           "--file", out, "--stats-interval", "0", "--quiet"]
    d = subprocess.Popen(cmd)
    st_path = os.path.join(tmp, "loongd.status.sock")
    deadline = time.time() + 10
    while not os.path.exists(st_path):
        if time.time() > deadline:
            raise SystemExit("loongd did not start")
        time.sleep(0.01)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(sock)
    cpu0 = cpu_seconds(d.pid)
    t0 = time.perf_counter()
    for g in dgrams:
        s.send(g)
    t_sent = time.perf_counter()
    while True:
        st = status(st_path)
        if st["written"] >= npoints:
            break
        time.sleep(0.002)
    t1 = time.perf_counter()
    cpu1 = cpu_seconds(d.pid)
    s.close()
    d.terminate()
    d.wait(10)
    size = os.path.getsize(out)
    assert st["received"] == npoints and st["rejected"] == 0, st
    assert st["dropped"] == 0, st
    return {"seconds": t1 - t0, "send_seconds": t_sent - t0,
            "rate": npoints / (t1 - t0), "cpu": cpu1 - cpu0,
            "bytes": size}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=2000000)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if not LOONGD.exists():
        raise SystemExit("build loongd first: make agent")
    other = [c for c in sorted(os.sched_getaffinity(0)) if c != a.cpu]
    if other:
        os.sched_setaffinity(0, {other[0]})
    print("generating %d points..." % a.points, file=sys.stderr)
    ls = lines(a.points)
    dg = datagrams(ls)
    print("%d datagrams, %.1f MB, mean line %d bytes" % (
        len(dg), sum(map(len, dg)) / 1e6, sum(map(len, ls)) // len(ls)))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.runs):
            r = one_run(dg, a.points, a.cpu, tmp)
            results.append(r)
            print("run %d: %.0f points/s (%.2f s; loongd cpu %.2f s = "
                  "%.0f%% of one core; %.1f MB written)" % (
                      i + 1, r["rate"], r["seconds"], r["cpu"],
                      100 * r["cpu"] / r["seconds"], r["bytes"] / 1e6))
    rates = sorted(r["rate"] for r in results)
    print("median %.0f points/s, min %.0f, max %.0f" % (
        rates[len(rates) // 2], rates[0], rates[-1]))


if __name__ == "__main__":
    main()
