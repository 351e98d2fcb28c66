"""Sinks: UDP (IPv4 and IPv6 loopback) and unix datagrams receive valid
line protocol; a dead sink changes nothing for the program and counts drops."""
import json
import os
import select
import socket
import time

import pytest

from conftest import (PROGRAMS, base_env, loong_cmd, meta,
                      only_proc_dir, parse_lp_line, proc_dirs, read_points,
                      run)


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


# ---- more: localhost, precedence, dir:PATH, children, full and dead sinks -



def udp_socket(family, host, port=0):
    try:
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((host, port))
    except OSError:
        return None
    return s


def test_udp_localhost_reaches_one_loopback(python, tmp_path):
    s4 = udp_socket(socket.AF_INET, "127.0.0.1")
    port = s4.getsockname()[1]
    s6 = udp_socket(socket.AF_INET6, "::1", port)
    try:
        r = run(loong_cmd(tmp_path / "out", "example",
                          args=["--sink", "udp://localhost:%d" % port]) +
                [python, PROGRAMS / "calls.py", "300"])
        assert r.returncode == 0, r.stderr
        # sent before the program exited: already queued, no long waits
        got = {"4": drain(s4, 0.2), "6": drain(s6, 0.2) if s6 else []}
        assert bool(got["4"]) != bool(got["6"]), got  # one, not both
        check_points(got["4"] or got["6"])
    finally:
        s4.close()
        if s6:
            s6.close()


def test_sink_option_beats_environment(python, tmp_path):
    s = udp_socket(socket.AF_INET, "127.0.0.1")
    url = "udp://127.0.0.1:%d" % s.getsockname()[1]
    env = base_env(LOONG_SINK="unix:%s/nobody.sock" % tmp_path)
    r = run(loong_cmd(tmp_path / "out", "example", args=["--sink", url]) +
            [python, PROGRAMS / "calls.py", "300"], env=env)
    assert r.returncode == 0, r.stderr
    check_points(drain(s))
    s.close()
    m = meta(only_proc_dir(tmp_path / "out"))
    assert m["sink"] == url and m["dropped"] == 0


def test_dir_path_sink_moves_the_process_folders(python, tmp_path):
    (tmp_path / "w").mkdir()
    r = run(loong_cmd("out", "example", args=["--sink", "dir:m/sub"]) +
            [python, PROGRAMS / "calls.py", "300"], cwd=tmp_path / "w")
    assert r.returncode == 0, r.stderr
    assert proc_dirs(tmp_path / "w" / "out") == []
    d = only_proc_dir(tmp_path / "w" / "m" / "sub")
    m = meta(d)
    assert m["sink"] == "dir:%s" % os.path.realpath(tmp_path / "w/m/sub")
    pts = read_points(d / "metrics.lp")
    assert sum(p[2]["calls"] for p in pts if p[0] == "loong_example") >= 300
    assert m["records"] == len(pts) and m["dropped"] == 0


def test_udp_sink_children_each_send_their_own(python, tmp_path):
    s = udp_socket(socket.AF_INET, "127.0.0.1")
    url = "udp://127.0.0.1:%d" % s.getsockname()[1]
    r = run(loong_cmd(tmp_path / "out", "example", args=["--sink", url]) +
            [python, PROGRAMS / "spawn.py"])
    assert r.returncode == 0, r.stderr
    lines = drain(s, 3.0)
    s.close()
    pts = [parse_lp_line(l) for l in lines]
    dirs = proc_dirs(tmp_path / "out")
    assert len(dirs) == 3
    for d in dirs:
        m = meta(d)
        assert m["sink"] == url and m["exit"] == "exit"
        mine = [p for p in pts if p[1]["pid"] == str(m["pid"])]
        assert len(mine) == m["records"], (d.name, len(mine), m)
        assert {p[1]["program"] for p in mine} == {d.name.rsplit("-", 1)[0]}
    assert len(pts) == sum(meta(d)["records"] for d in dirs)


def test_full_unix_socket_drops_are_counted_exactly(python, tmp_path):
    """The agent never reads: its queue fills, loong drops without
    blocking the program, and every record is either received or counted
    as dropped by the sink."""
    path = str(tmp_path / "agent.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    prog = ("import time\nt = time.time()\n"
            "while time.time() - t < 0.25:\n    time.sleep(0.002)\n"
            "print('done')")
    t0 = time.time()
    r = run(loong_cmd(tmp_path / "out", "example", interval="1ms",
                      args=["--sink", "unix:" + path]) +
            [python, "-c", prog], timeout=60)
    elapsed = time.time() - t0
    assert r.returncode == 0 and r.stdout == b"done\n", r.stderr
    assert elapsed < 10
    received = 0
    sock.setblocking(False)
    for _ in range(100000):
        try:
            data = sock.recv(1 << 20)
        except BlockingIOError:
            break
        for l in data.decode().splitlines():
            parse_lp_line(l)
            received += 1
    sock.close()
    m = meta(only_proc_dir(tmp_path / "out"))
    assert m["dropped_sink"] > 0 and m["dropped_buffer_full"] == 0
    assert m["dropped"] == m["dropped_sink"]
    assert received + m["dropped_sink"] == m["records"], (received, m)


def test_dead_udp_port_changes_nothing_and_counts(python, tmp_path):
    s = udp_socket(socket.AF_INET, "127.0.0.1")
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: the kernel refuses
    prog = "import time\ntime.sleep(0.15)\nprint('done')"
    plain = run([python, "-c", prog])
    prof = run(loong_cmd(tmp_path / "out", "example", interval="2ms",
                         args=["--sink", "udp://127.0.0.1:%d" % port]) +
               [python, "-c", prog])
    assert (prof.stdout, prof.stderr, prof.returncode) == \
        (plain.stdout, plain.stderr, plain.returncode)
    m = meta(only_proc_dir(tmp_path / "out"))
    assert m["dropped_sink"] > 0 and m["exit"] == "exit"


def test_unix_sink_on_a_stream_socket_drops(python, tmp_path):
    path = str(tmp_path / "stream.sock")
    st = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    st.bind(path)
    st.listen(1)
    args = [python, PROGRAMS / "calls.py", "50"]
    plain = run(args)
    prof = run(loong_cmd(tmp_path / "out", "example",
                         args=["--sink", "unix:" + path]) + args)
    st.close()
    assert (prof.stdout, prof.stderr, prof.returncode) == \
        (plain.stdout, plain.stderr, plain.returncode)
    m = meta(only_proc_dir(tmp_path / "out"))
    assert m["dropped_sink"] == m["records"] > 0


CHDIR_CHILD = r"""
import os, subprocess, sys
os.chdir("/")
r = subprocess.run([sys.executable, "-c",
                    "def f():\n    pass\nfor _ in range(50):\n    f()"],
                   cwd="/tmp")
print(r.returncode)
"""


def test_relative_unix_sink_survives_chdir(python, tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(work / "agent.sock"))
    r = run(loong_cmd("out", "example", args=["--sink", "unix:agent.sock"])
            + [python, "-c", CHDIR_CHILD], cwd=work)
    assert r.returncode == 0 and r.stdout == b"0\n", r.stderr
    dirs = proc_dirs(work / "out")
    assert len(dirs) == 2
    for d in dirs:
        m = meta(d)
        assert m["dropped_sink"] == 0, (d.name, m)
    # everything was sent before the program exited: no need to wait long
    pids = {parse_lp_line(l)[1]["pid"] for l in drain(sock, 0.5)}
    sock.close()
    assert pids == {str(meta(d)["pid"]) for d in dirs}
