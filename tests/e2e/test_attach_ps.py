"""`loong ps`, and `loong status/load/unload/detach` on processes started
with `loong run` (docs/attach.md, docs/cli.md)."""
import json
import os
import pathlib
import select
import signal
import socket
import subprocess
import time

from conftest import LOONG, PYTHONS, loong_cmd, meta
from test_attach import (EXPECTED, TARGET, counts, finish, kill, loong,
                         proc_dir, start, target_env, wait_for)


def some_pythons(n=2):
    """n different interpreters (fewer if fewer are found)."""
    return [PYTHONS[v] for v in sorted(PYTHONS, key=lambda v: int(
        v.split(".")[1]))][-n:]


def ps_json():
    r = loong("ps", "--json")
    assert r.returncode == 0, r.stderr
    return {e["pid"]: e for e in json.loads(r.stdout)}


def start_run(python, out, mode, seconds, *toolkits):
    """The attach target under `loong run`."""
    cmd = loong_cmd(out, *toolkits, interval="200ms") + [
        python, str(TARGET), mode, str(seconds)]
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=target_env())
    ready, _, _ = select.select([p.stdout], [], [], 10)
    assert ready, "target did not start"
    assert p.stdout.readline() == b"ready\n"
    return p


def minor_of(python):
    return [v for v, p in PYTHONS.items() if p == python][0]


def test_ps_lists_python_processes_and_loong_in_them(tmp_path):
    py_plain, py_run = (some_pythons(2) * 2)[:2]
    out = tmp_path / "out"
    # long enough for a load and a detach under the sanitizers on a busy
    # machine: the program must still be there for the table
    plain = start(py_plain, "sleep", 10)
    under = start_run(py_run, out, "sleep", 10, "example")
    other = subprocess.Popen(["sleep", "30"])
    gone = start(py_plain, "sleep", 0)
    finish(gone)
    try:
        got = ps_json()
        assert plain.pid in got and under.pid in got, got.keys()
        assert other.pid not in got and gone.pid not in got
        e = got[plain.pid]
        assert e["python"] == minor_of(py_plain)
        assert e["argv"] == [py_plain, str(TARGET), "sleep", "10"]
        assert e["loong"] == {"state": "none", "runtime_mapped": False,
                              "socket": False}
        e = got[under.pid]
        assert e["python"] == minor_of(py_run)
        assert e["argv"][1:] == [str(TARGET), "sleep", "10"]
        assert e["loong"]["state"] == "started"
        assert e["loong"]["runtime_mapped"] and e["loong"]["socket"]
        assert e["loong"]["toolkits"] == ["example"]
        assert e["loong"]["python"].startswith(minor_of(py_run) + ".")
        assert e["loong"]["output"] == str(proc_dir(out, under.pid))

        # attached with a toolkit, then detached: the states follow
        r = loong("load", "-o", out, plain.pid, "example")
        assert r.returncode == 0, r.stderr
        e = ps_json()[plain.pid]
        assert e["loong"]["state"] == "started"
        assert e["loong"]["toolkits"] == ["example"]
        r = loong("detach", plain.pid)
        assert r.returncode == 0, r.stderr
        e = ps_json()[plain.pid]
        assert e["loong"] == {"state": "detached", "runtime_mapped": True,
                              "socket": False}

        # the table: a header, one line per process, clear columns
        r = loong("ps")
        assert r.returncode == 0, r.stderr
        lines = r.stdout.decode().splitlines()
        assert lines[0].split() == ["PID", "PYTHON", "LOONG", "TOOLKITS",
                                    "COMMAND"]
        rows = {int(l.split()[0]): l.split() for l in lines[1:]}
        assert rows[plain.pid][1:4] == [minor_of(py_plain), "detached", "-"]
        assert rows[under.pid][1:4] == [minor_of(py_run), "started",
                                        "example"]
        assert rows[plain.pid][4] == os.path.basename(py_plain)
        assert other.pid not in rows

        for p, mode in ((plain, "sleep"), (under, "sleep")):
            stdout, stderr = finish(p)
            assert stdout == EXPECTED[mode] and p.returncode == 3, stderr
        got = ps_json()
        assert plain.pid not in got and under.pid not in got
    finally:
        kill([plain, under, other])


def test_ps_bounded_by_a_process_that_takes_no_connection(tmp_path):
    # A stopped (or hung) process accepts nothing: once its queue of
    # connections is full, a blocking connect() to it waits for ever, and
    # `loong ps` hung with it. Now the connect has the answer's deadline.
    p = start_run(some_pythons(1)[0], tmp_path / "out", "sleep", 3,
                  "example")
    sock = "/tmp/loong-%d/%d.sock" % (os.getuid(), p.pid)
    queued = []
    os.kill(p.pid, signal.SIGSTOP)
    try:
        while len(queued) < 64:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(sock)
            except BlockingIOError:
                s.close()
                break
            queued.append(s)
        assert 0 < len(queued) < 64  # the queue is full
        r = loong("ps", "--json", timeout=20)
        assert r.returncode == 0, r.stderr
        e = {e["pid"]: e for e in json.loads(r.stdout)}[p.pid]
        assert e["loong"]["state"] == "no-answer", e
        for s in queued:
            s.close()
        os.kill(p.pid, signal.SIGCONT)
        # resumed, it ends as it would have, and takes its socket along
        stdout, stderr = finish(p)
        assert stdout == EXPECTED["sleep"] and p.returncode == 3, stderr
        assert not os.path.exists(sock)
    finally:
        for s in queued:
            s.close()
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)
        kill([p])


def test_ps_usage():
    r = loong("ps", "--frob")
    assert r.returncode == 2 and b"unexpected argument '--frob'" in r.stderr
    r = loong("ps", "--help")
    assert r.returncode == 0 and r.stdout.startswith(b"Usage: loong ps")


def test_loong_run_process_answers_status_load_unload_detach(tmp_path):
    """`loong run` opens the control socket: status, unload, load and
    detach work on it; detach unloads everything and stops loong; the
    program runs on unchanged."""
    python = some_pythons(1)[0]
    out = tmp_path / "out"
    p = start_run(python, out, "cpu", 4, "example")
    try:
        sock = "/tmp/loong-%d/%d.sock" % (os.geteuid(), p.pid)
        assert os.path.exists(sock)
        st = loong("status", "--json", p.pid)
        assert st.returncode == 0, st.stderr
        s = json.loads(st.stdout)
        assert s["started"] and [t["name"] for t in s["toolkits"]] == \
            ["example"]
        d = proc_dir(out, p.pid)
        assert s["output"] == str(d)
        r = loong("unload", p.pid, "example")
        assert r.returncode == 0, r.stderr
        assert (d / "example.txt").exists()
        r = loong("load", p.pid, "function", "top=5")
        assert r.returncode == 0, r.stderr
        assert b"loaded function into process %d" % p.pid in r.stdout
        # the options of `loong run` stay: the same folder
        s = json.loads(loong("status", "--json", p.pid).stdout)
        assert [t["name"] for t in s["toolkits"]] == ["function"]
        assert s["output"] == str(d) and s["interval_ms"] == 200
        r = loong("detach", p.pid)
        assert r.returncode == 0, r.stderr
        assert not os.path.exists(sock)
        assert (d / "function.tsv").exists()
        assert meta(d)["exit"] == "detach"
        # only the main thread is left
        assert wait_for(lambda: counts(p.pid)[0] == 1), counts(p.pid)
        r = loong("status", p.pid)
        assert r.returncode == 1 and b"not attached" in r.stderr
        # and loong can be brought back in by attach
        r = loong("load", "-o", out, p.pid, "example")
        assert r.returncode == 0, r.stderr
        r = loong("detach", p.pid)
        assert r.returncode == 0, r.stderr
        stdout, stderr = finish(p)
        assert stdout == EXPECTED["cpu"] and p.returncode == 3, stderr
        assert stderr == b""
    finally:
        kill([p])


CHILDREN = r"""
import os, subprocess, sys, time
print("ready", flush=True)
sys.stdin.readline()          # the test detaches us meanwhile
subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"])
"""


def test_loong_run_children_after_detach(tmp_path):
    """Detach removes loong from that process only: the environment
    `loong run` set stays, so a Python child started afterwards runs with
    loong, in its own folder, and exits cleanly (socket removed)."""
    python = some_pythons(1)[0]
    out = tmp_path / "out"
    cmd = loong_cmd(out) + [python, "-c", CHILDREN]
    p = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=target_env())
    try:
        assert p.stdout.readline() == b"ready\n"
        r = loong("detach", p.pid)
        assert r.returncode == 0, r.stderr
        stdout, stderr = p.communicate(b"\n", timeout=30)
        assert p.returncode == 0, stderr
        child = int(stdout.strip())
        assert meta(proc_dir(out, p.pid))["exit"] == "detach"
        assert meta(proc_dir(out, child))["exit"] == "exit"
        assert not os.path.exists("/tmp/loong-%d/%d.sock"
                                  % (os.geteuid(), child))
    finally:
        kill([p])
