"""Sinks: UDP (IPv4 and IPv6 loopback) and unix datagrams receive valid
line protocol; a dead sink changes nothing for the program and counts drops."""
import json
import os
import select
import socket
import time

import pytest

from conftest import (LOONG, PROGRAMS, base_env, loong_cmd, only_proc_dir,
                      parse_lp_line, run)


def drain(sock, seconds=2.0):
    lines = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        r, _, _ = select.select([sock], [], [], 0.1)
        if not r:
            if lines:
                break
            continue
        data = sock.recv(65536)
        assert data.endswith(b"\n")
        assert len(data) <= 8192 or data.count(b"\n") == 1
        lines += data.decode().splitlines()
    return lines


def check_points(lines):
    pts = [parse_lp_line(l) for l in lines]
    meas = {p[0] for p in pts}
    assert "loong_example" in meas and "loong_runtime" in meas
    ex = [p for p in pts if p[0] == "loong_example"]
    assert sum(p[2]["calls"] for p in ex) >= 300
    return pts


@pytest.mark.parametrize("family,host", [(socket.AF_INET, "127.0.0.1"),
                                         (socket.AF_INET6, "::1")])
def test_udp_sink(python, tmp_path, family, host):
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((host, 0))
    except OSError:
        pytest.skip("%s not available here" % host)
    port = sock.getsockname()[1]
    url = "udp://%s:%d" % (host if family == socket.AF_INET else
                           "[%s]" % host, port)
    args = [python, PROGRAMS / "calls.py", "300"]
    plain = run(args)
    prof = run(loong_cmd(tmp_path / "out", "example",
                         args=["--sink", url]) + args)
    assert (prof.stdout, prof.returncode) == (plain.stdout, 0)
    check_points(drain(sock))
    d = only_proc_dir(tmp_path / "out")
    m = json.loads((d / "meta.json").read_text())
    assert m["sink"] == url and m["dropped"] == 0
    assert not (d / "metrics.lp").exists()
    sock.close()


def test_unix_sink_and_env_default(python, tmp_path):
    path = str(tmp_path / "agent.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    env = base_env(LOONG_SINK="unix:" + path)
    r = run(loong_cmd(tmp_path / "out", "example") +
            [python, PROGRAMS / "calls.py", "300"], env=env)
    assert r.returncode == 0
    check_points(drain(sock))
    sock.close()


def test_dead_sink_changes_nothing_and_counts(python, tmp_path):
    args = [python, PROGRAMS / "calls.py", "300"]
    plain = run(args)
    prof = run(loong_cmd(tmp_path / "out", "example",
                         args=["--sink", "unix:%s/nobody.sock" % tmp_path])
               + args)
    assert (prof.stdout, prof.stderr, prof.returncode) == \
        (plain.stdout, plain.stderr, plain.returncode)
    m = json.loads((only_proc_dir(tmp_path / "out") / "meta.json")
                   .read_text())
    assert m["dropped_sink"] >= 2 and m["dropped"] == m["dropped_sink"]
