"""loongd without InfluxDB: the file output, validation, its figures,
configuration, UDP on loopback, and `loong run --sink agent` / finding the
agent automatically. (With a real InfluxDB: test_agent_influx.py.)"""
import json
import os
import socket
import subprocess
import time

import pytest

from conftest import (LOONG, PROGRAMS, base_env, loong_cmd, meta,
                      only_proc_dir, parse_lp_line, read_points, run)
from test_agent_helpers import (LOONGD, Loongd, newest_python, produced_by,
                                wait_for)

GOOD = [
    b"m,t=a f=1i 1000",
    b'm,t=b\\ c f="x\\"y" 2000',
    b"m2 g=1.5,h=t",            # no timestamp: stamped on arrival
]
BAD = [
    b"m f=1u 1",                  # unsigned
    b"m,t=a",                     # no field
    b"# comment",
    b"m f=\"open",
    b"m,t=a\\\\ f=1 3",           # InfluxDB 1.x would misread it
    "m,t=\u00e9 f=1\x01".encode(),  # control character
    b"m,t=\xff f=1",              # invalid UTF-8
]


def test_file_output_validates_every_line(tmp_path):
    out = tmp_path / "lines.lp"
    d = Loongd(tmp_path, "--file", out, "--flush-interval", "50ms",
               "--stats-interval", "0").start()
    try:
        t0 = time.time_ns()
        d.send(b"\n".join(GOOD[:1] + BAD[:3] + GOOD[1:] + BAD[3:]) + b"\n")
        d.send(b"")   # an empty datagram: nothing
        st = d.wait_idle(5, received=3)
        assert (st["received"], st["rejected"], st["written"]) == (3, 7, 3)
        assert st["dropped"] == 0 and st["datagrams"] == 2
    finally:
        assert d.stop() == 0
    lines = out.read_bytes().splitlines()
    assert lines[:2] == GOOD[:2]
    assert lines[2].startswith(GOOD[2] + b" ")
    assert t0 <= int(lines[2].split()[-1]) <= time.time_ns()
    assert len(lines) == 3
    log = d.log.read_text()
    assert "rejected line (unsigned" in log and "invalid UTF-8" in log
    assert "received 3, rejected 7, written 3, dropped 0" in log


def test_status_commands(tmp_path):
    d = Loongd(tmp_path, "--file", tmp_path / "o.lp", "--stats-interval",
               "0").start()
    try:
        d.send(b"m f=1i 1\nbad\n")
        wait_for(lambda: d.status()["received"] == 1, 5, "a line")
        env = d.env()
        r = run([LOONG, "agent", "status"], env=env)
        assert r.returncode == 0, r.stderr
        text = r.stdout.decode()
        assert "received: 1\n" in text and "rejected: 1\n" in text
        assert "output: file:%s" % (tmp_path / "o.lp") in text
        r = run([LOONG, "agent", "status", "--json", "--socket", d.sock],
                env=base_env())
        st = json.loads(r.stdout)
        assert st["received"] == 1 and st["pid"] == d.proc.pid
        r = run([LOONGD, "--status", "--json", "--socket", d.sock])
        assert json.loads(r.stdout)["rejected"] == 1
        r = run([LOONGD, "--status"], env=env)
        assert r.returncode == 0 and b"state: ok\n" in r.stdout
    finally:
        d.stop()
    r = run([LOONG, "agent", "status"], env=env)
    assert r.returncode == 1
    assert r.stderr.decode().count("\n") == 1
    assert b"is loongd running?" in r.stderr
    r = run([LOONG, "agent", "frob"], env=env)
    assert r.returncode == 2


def test_own_points(tmp_path):
    out = tmp_path / "o.lp"
    d = Loongd(tmp_path, "--file", out, "--stats-interval", "100ms",
               "--flush-interval", "50ms", "--host", "h,1 =x").start()
    try:
        d.send(b"m f=1i 1\n")
        wait_for(lambda: d.status()["self"] >= 3, 5, "own points")
    finally:
        d.stop()
    pts = read_points(out)
    own = [p for p in pts if p[0] == "loongd"]
    assert len(own) >= 3
    assert all(p[1] == {"host": "h,1 =x"} for p in own)
    last = own[-1][2]
    for f in ("received", "rejected", "written", "dropped", "buffered",
              "buffered_bytes", "spooled"):
        assert isinstance(last[f], int)
    assert last["received"] == 1


def test_config_file_flags_and_errors(tmp_path):
    conf = tmp_path / "loongd.conf"
    conf.write_text("# loongd\nfile = %s\nbatch_lines = 2\n"
                    "flush-interval = \"20ms\"\nstats-interval = 0\n"
                    % (tmp_path / "c.lp"))
    d = Loongd(tmp_path, "--config", conf, "--batch-lines", "3").start()
    try:
        d.send(b"".join(b"m f=%di 1%d\n" % (i, i) for i in range(7)))
        st = d.wait_idle(5, received=7)
        assert st["batches"] == 3       # the flag won: 3 + 3 + 1
    finally:
        d.stop()
    assert len((tmp_path / "c.lp").read_bytes().splitlines()) == 7

    def refused(*args, says):
        r = run([LOONGD, "--socket", tmp_path / "x.sock"] + list(args))
        assert r.returncode == 2, (args, r.stderr)
        err = r.stderr.decode()
        assert err.startswith("loongd: ") and says in err, err
    refused("--frob", "1", says="unknown option '--frob'")
    refused("--udp", "10.1.2.3:8089", says="not a loopback address")
    refused("--buffer-size", "1K", says="at least twice --batch-size")
    refused("--influx", "ftp://x", says="expected http://")
    refused("--precision", "ps", says="expected ns, us, ms, s, m or h")
    refused("--batch-size", "lots", says="expected a size")
    bad = tmp_path / "bad.conf"
    bad.write_text("file /tmp/x\n")
    refused("--config", bad, says="bad.conf:1: expected key = value")
    r = run([LOONGD, "--help"])
    assert r.returncode == 0 and b"Usage: loongd" in r.stdout


def test_second_agent_on_the_same_socket_is_refused(tmp_path):
    d = Loongd(tmp_path, "--file", tmp_path / "o.lp").start()
    try:
        r = run([LOONGD, "--socket", d.sock, "--file", tmp_path / "p.lp"])
        assert r.returncode == 1
        assert b"another agent is running" in r.stderr
        assert d.status()["received"] == 0
    finally:
        d.stop()
    # a stale socket file (agent killed) is replaced
    d.start()
    d.kill9()
    assert os.path.exists(d.sock)
    d.start()
    d.stop()


def test_udp_on_loopback(tmp_path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    out = tmp_path / "u.lp"
    d = Loongd(tmp_path, "--file", out, "--udp", "127.0.0.1:%d" % port,
               "--flush-interval", "20ms", "--stats-interval", "0").start()
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"udp f=1i 5\nnope\n", ("127.0.0.1", port))
        u.close()
        st = d.wait_idle(5, received=1)
        assert st["rejected"] == 1
    finally:
        d.stop()
    assert out.read_bytes() == b"udp f=1i 5\n"


def test_loong_run_sink_agent_and_found_automatically(tmp_path):
    py = newest_python()
    out = tmp_path / "agent.lp"
    d = Loongd(tmp_path / "agent", "--file", out, "--flush-interval",
               "20ms", "--stats-interval", "0").start()
    args = [py, PROGRAMS / "calls.py", "300"]
    try:
        plain = run(args)
        # --sink agent
        r = run(loong_cmd(tmp_path / "o1", "function",
                          args=["--sink", "agent"]) + args, env=d.env())
        assert (r.stdout, r.returncode) == (plain.stdout, 0), r.stderr
        m = meta(only_proc_dir(tmp_path / "o1"))
        assert m["sink"] == "unix:" + d.sock and m["dropped"] == 0
        # no --sink, no LOONG_SINK: the running agent is found
        r = run(loong_cmd(tmp_path / "o2", "function") + args, env=d.env())
        assert (r.stdout, r.returncode) == (plain.stdout, 0), r.stderr
        m2 = meta(only_proc_dir(tmp_path / "o2"))
        assert m2["sink"] == "unix:" + d.sock
        assert not (only_proc_dir(tmp_path / "o2") / "metrics.lp").exists()
        want = produced_by(tmp_path / "o1") + produced_by(tmp_path / "o2")
        st = d.wait_idle(5, received=want)
        assert st["received"] == want and st["rejected"] == 0
    finally:
        d.stop()
    pts = read_points(out)
    assert len(pts) == want
    assert {p[1]["pid"] for p in pts} == {str(m["pid"]), str(m2["pid"])}
    assert any(p[0] == "loong_function" for p in pts)

    # the agent gone: the directory sink, and --sink agent warns
    r = run(loong_cmd(tmp_path / "o3", "function") + args, env=d.env())
    assert r.returncode == 0
    assert (only_proc_dir(tmp_path / "o3") / "metrics.lp").exists()
    r = run(loong_cmd(tmp_path / "o4", "function",
                      args=["--sink", "agent"]) + args, env=d.env())
    assert r.returncode == 0 and r.stdout == plain.stdout
    assert b"loong: warning: no agent is running at" in r.stderr
    assert meta(only_proc_dir(tmp_path / "o4"))["dropped_sink"] > 0


def test_attach_finds_the_agent(tmp_path):
    """loong load into a process started without loong: with loongd
    running, its points go to the agent, as with loong run."""
    import test_attach as ta
    py = newest_python()
    out = tmp_path / "agent.lp"
    d = Loongd(tmp_path / "agent", "--file", out, "--flush-interval",
               "20ms", "--stats-interval", "0").start()
    p = ta.start(py, "cpu", 3)
    try:
        r = ta.loong("load", "-o", tmp_path / "o", "--interval", "200ms",
                     p.pid, "function",
                     env_extra={"LOONG_AGENT_SOCKET": d.sock})
        assert r.returncode == 0, r.stderr
        assert ta.wait_for(lambda: out.exists() and any(
            x[0] == "loong_runtime" and x[1]["pid"] == str(p.pid)
            for x in read_points(out)), timeout=10)
        r = ta.loong("detach", p.pid)
        assert r.returncode == 0, r.stderr
        m = meta(ta.proc_dir(tmp_path / "o", p.pid))
        assert m["sink"] == "unix:" + d.sock
        assert not (ta.proc_dir(tmp_path / "o", p.pid) /
                    "metrics.lp").exists()
        stdout, stderr = ta.finish(p)
        assert p.returncode == 3 and stderr == b""
    finally:
        ta.kill([p])
        d.stop()
    assert any(x[0] == "loong_function" and x[1]["pid"] == str(p.pid)
               for x in read_points(out))
