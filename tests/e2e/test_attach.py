"""`loong attach`, load, unload, status, detach: into processes started
without loong, on every CPython 3.8+ present (docs/attach.md)."""
import ctypes
import json
import os
import pathlib
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import LOONG, PROGRAMS, PYTHONS, SANITIZE, base_env, run, \
    points_of

TARGET = PROGRAMS / "attach_target.py"
MODES = ["cpu", "sleep", "select", "recv", "threads"]
EXPECTED = {
    "cpu": b"ready\ncpu complete\n",
    "sleep": b"ready\nsleep complete\n",
    "select": b"ready\nselect complete\n",
    "recv": b"ready\nrecv complete\n",
    "threads": b"ready\nthreads 4 joined\n",
}
# the function toolkit where the program makes calls, the example toolkit
# where it only waits
TOOLKIT = {"cpu": "function", "threads": "function", "sleep": "example",
           "select": "example", "recv": "example"}
OUTPUT = {"function": "function.tsv", "example": "example.txt"}


def loong(*args, timeout=30, env_extra=None):
    return run([LOONG] + [str(a) for a in args], timeout=timeout,
               env=base_env(**(env_extra or {})))


# A sanitizer build (make SANITIZE=1) has a runtime that only loads into a
# process with ASan loaded first: its targets get it, even when the tests
# are run by hand without LOONG_SANITIZE=1.
ASAN_BUILD = b"__asan_init" in LOONG.read_bytes()


def target_env(**extra):
    env = base_env(**extra)
    if ASAN_BUILD and not SANITIZE:
        lib = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()
        env.update({"LD_PRELOAD": lib,
                    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:"
                                    "exitcode=86",
                    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:"
                                     "exitcode=87"})
    return env


def start(python, mode, seconds, env=None):
    p = subprocess.Popen([python, str(TARGET), mode, str(seconds)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env if env is not None else target_env())
    ready, _, _ = select.select([p.stdout], [], [], 10)
    assert ready, "target did not start"
    assert p.stdout.readline() == b"ready\n"
    return p


def finish(p, timeout=30):
    out, err = p.communicate(timeout=timeout)
    return b"ready\n" + out, err


def kill(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def wait_for(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def proc_dir(out, pid):
    dirs = [d for d in pathlib.Path(out).iterdir()
            if d.name.rsplit("-", 1)[-1].split(".")[0] == str(pid)]
    assert len(dirs) >= 1, list(pathlib.Path(out).iterdir())
    return sorted(dirs)[-1]


def counts(pid):
    return (len(os.listdir("/proc/%d/task" % pid)),
            len(os.listdir("/proc/%d/fd" % pid)))


def test_attach_in_every_state(python, tmp_path):
    """Each state at once: attach + load a toolkit, data arrives, unload,
    detach; the program's output and status are its own, its waits are
    complete."""
    out = tmp_path / "out"
    procs = {}
    try:
        for mode in MODES:
            procs[mode] = start(python, mode, 3)
        for mode, p in procs.items():
            tk = TOOLKIT[mode]
            r = loong("load", "-o", out, "--interval", "200ms", p.pid, tk)
            assert r.returncode == 0, (mode, r.stderr)
            assert b"loaded %s into process %d" % (tk.encode(), p.pid) \
                in r.stdout
        for mode, p in procs.items():
            d = proc_dir(out, p.pid)
            assert wait_for(lambda: (d / "metrics.lp").exists() and
                            points_of(d / "metrics.lp", "loong_runtime")), mode
        for mode, p in procs.items():
            st = loong("status", "--json", p.pid)
            assert st.returncode == 0, st.stderr
            s = json.loads(st.stdout)
            assert s["started"] and s["pid"] == p.pid
            assert [t["name"] for t in s["toolkits"]] == [TOOLKIT[mode]]
            r = loong("unload", p.pid, TOOLKIT[mode])
            assert r.returncode == 0, (mode, r.stderr)
            d = proc_dir(out, p.pid)
            assert (d / OUTPUT[TOOLKIT[mode]]).exists(), mode
            r = loong("detach", p.pid)
            assert r.returncode == 0, (mode, r.stderr)
            m = json.loads((d / "meta.json").read_text())
            assert m["exit"] == "detach"
        for mode, p in procs.items():
            stdout, stderr = finish(p)
            assert stdout == EXPECTED[mode], (mode, stdout, stderr)
            assert p.returncode == 3, (mode, stderr)
            assert stderr == b"", (mode, stderr)
        # the work done in the loop shows in the profile
        tsv = (proc_dir(out, procs["cpu"].pid) / "function.tsv").read_text()
        assert "work" in tsv
    finally:
        kill(procs.values())


def test_runtime_alias_and_status(tmp_path):
    python = PYTHONS.get("3.12") or PYTHONS[sorted(PYTHONS)[-1]]
    out = tmp_path / "out"
    p = start(python, "sleep", 2)
    try:
        env_out = ["-o", out]
        r = loong("attach", *env_out, p.pid)
        assert r.returncode == 0, r.stderr
        r = loong("attach", p.pid)  # again: already there, fine
        assert r.returncode == 0, r.stderr
        so = LOONG.parent.parent / "lib" / "loong" / "toolkits" / "example.so"
        r = run([LOONG, "-m", "_runtime", p.pid, "load", so, "top=5"])
        assert r.returncode == 0, r.stderr
        st = loong("status", p.pid)
        assert st.returncode == 0
        assert b"example" in st.stdout and b"top" in st.stdout
        r = loong("load", p.pid, "example")
        assert r.returncode == 1 and b"already loaded" in r.stderr
        r = run([LOONG, "-m", "_runtime", p.pid, "unload", "example"])
        assert r.returncode == 0, r.stderr
        r = run([LOONG, "-m", "_runtime", p.pid, "detach"])
        assert r.returncode == 0, r.stderr
        r = loong("status", p.pid)
        assert r.returncode == 1
        assert r.stderr.startswith(b"loong: status: loong is not attached")
        stdout, _ = finish(p)
        assert stdout == EXPECTED["sleep"]
    finally:
        kill([p])


def test_cycles_leave_nothing(tmp_path):
    python = PYTHONS.get("3.12") or PYTHONS[sorted(PYTHONS)[-1]]
    p = start(python, "cpu", 12)
    try:
        base = counts(p.pid)
        for i in range(4):
            r = loong("load", "-o", tmp_path / "out", p.pid, "function")
            assert r.returncode == 0, r.stderr
            sock = "/tmp/loong-%d/%d.sock" % (os.geteuid(), p.pid)
            assert os.path.exists(sock)
            assert counts(p.pid)[0] > base[0]  # flusher + control thread
            r = loong("detach", p.pid)
            assert r.returncode == 0, r.stderr
            assert not os.path.exists(sock)
            assert wait_for(lambda: counts(p.pid) == base), \
                (i, base, counts(p.pid))
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
        assert p.returncode == -signal.SIGTERM
    finally:
        kill([p])


def test_refusals(tmp_path):
    python = PYTHONS.get("3.12") or PYTHONS[sorted(PYTHONS)[-1]]
    gone = subprocess.Popen(["true"])
    gone.wait()
    r = loong("attach", gone.pid)
    assert r.returncode == 1
    assert r.stderr == b"loong: attach: no such process: %d\n" % gone.pid
    r = loong("attach", "12x")
    assert r.returncode == 2 and b"is not a process id" in r.stderr
    r = loong("attach")
    assert r.returncode == 2
    r = loong("attach", "--frob", "1")
    assert r.returncode == 2 and b"unknown option '--frob'" in r.stderr
    r = run([LOONG, "-m", "_runtime", "1", "frob"])
    assert r.returncode == 2
    sl = subprocess.Popen(["sleep", "30"])
    p = start(python, "sleep", 3)
    try:
        r = loong("attach", sl.pid)
        assert r.returncode == 1
        assert b"not a Python process" in r.stderr, r.stderr
        assert r.stderr.count(b"\n") == 1
        r = loong("load", p.pid, "no_such_toolkit")
        assert r.returncode == 2
        assert b"unknown toolkit 'no_such_toolkit'" in r.stderr
        r = loong("load", p.pid, "example", "bogus=1")
        assert r.returncode == 2 and b"no option 'bogus'" in r.stderr
        r = loong("load", p.pid, "example", "notkeyvalue")
        assert r.returncode == 2
        r = loong("unload", p.pid, "example")
        assert r.returncode == 1 and b"not attached" in r.stderr
        # nothing was injected by the refusals
        assert not os.path.exists("/tmp/loong-%d/%d.sock"
                                   % (os.geteuid(), p.pid))
        stdout, _ = finish(p)
        assert stdout == EXPECTED["sleep"]
    finally:
        kill([sl, p])


def _request(path, data, timeout=5):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf


def test_bad_requests_and_other_users(tmp_path):
    python = PYTHONS.get("3.12") or PYTHONS[sorted(PYTHONS)[-1]]
    p = start(python, "sleep", 3)
    try:
        r = loong("attach", "-o", tmp_path / "out", p.pid)
        assert r.returncode == 0, r.stderr
        sock = "/tmp/loong-%d/%d.sock" % (os.geteuid(), p.pid)
        st = os.lstat(sock)
        assert oct(st.st_mode & 0o777) == oct(0o600)
        assert oct(os.lstat(os.path.dirname(sock)).st_mode & 0o777) == \
            oct(0o700)
        for req, want in [
                (b"garbage\n", b"error bad request"),
                (b"loong/2\thello\n", b"error bad request"),
                (b"loong/1\tfrobnicate\n", b"error unknown command"),
                (b"loong/1\tload\n", b"error load takes one argument"),
                (b"loong/1\tunload\tnothing\n", b"error toolkit 'nothing'"),
                (b"loong/1\tstart\tout=relative\n", b"error "),
                (b"loong/1\thello", b"error incomplete request"),
                (b"loong/1\thello\nloong/1\thello\n", b"error one request"),
                (b"x" * 70000, b"error request too long"),
                (b"loong/1\x00\thello\n", b"error bad request: NUL"),
        ]:
            got = _request(sock, req)
            assert got.startswith(want), (req[:40], got)
            assert got.endswith(b"\n") and got.count(b"\n") == 1
        assert _request(sock, b"loong/1\thello\n").startswith(b"ok {")
        if os.geteuid() == 0:
            _other_user_refused(sock)
        r = loong("detach", p.pid)
        assert r.returncode == 0, r.stderr
        stdout, stderr = finish(p)
        assert stdout == EXPECTED["sleep"] and p.returncode == 3, stderr
    finally:
        kill([p])


def _in_child(fn):
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = fn()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _other_user_refused(sock):
    nobody = 65534

    def plain():
        # as nobody: the private folder keeps it out
        os.setgid(nobody)
        os.setuid(nobody)
        try:
            _request(sock, b"loong/1\thello\n")
        except PermissionError:
            return 0
        return 1

    def peercred():
        # effective uid nobody, file access still root's: the folder lets
        # it through, SO_PEERCRED must refuse it
        libc = ctypes.CDLL(None, use_errno=True)
        os.setegid(nobody)
        os.seteuid(nobody)
        libc.setfsuid(0)
        got = _request(sock, b"loong/1\tdetach\n")
        return 0 if got.startswith(b"error permission denied") else 2

    assert _in_child(plain) == 0
    assert _in_child(peercred) == 0


def test_killing_loong_mid_attach_leaves_the_target_unharmed(tmp_path):
    """SIGKILL `loong load` at varied points of its work: the target lives
    on, its sleep is complete and its output is its own."""
    python = PYTHONS.get("3.12") or PYTHONS[sorted(PYTHONS)[-1]]
    procs = []
    try:
        for i, delay in enumerate([0.0, 0.001, 0.002, 0.003, 0.005, 0.008,
                                   0.012, 0.02]):
            p = start(python, "sleep" if i % 2 else "cpu", 2)
            procs.append(p)
            c = subprocess.Popen([str(LOONG), "load", "-o",
                                  str(tmp_path / "out"), str(p.pid),
                                  "function"], env=base_env(),
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(delay)
            c.kill()
            c.wait()
        for i, p in enumerate(procs):
            if os.path.exists("/tmp/loong-%d/%d.sock" % (os.geteuid(),
                                                         p.pid)):
                r = loong("detach", p.pid)  # whatever it had reached
                assert r.returncode in (0, 1), r.stderr
            stdout, stderr = finish(p)
            assert stdout == EXPECTED["sleep" if i % 2 else "cpu"], \
                (i, stdout, stderr)
            assert p.returncode == 3, (i, stderr)
    finally:
        kill(procs)


@pytest.mark.skipif(not ASAN_BUILD, reason="for a sanitizer build only")
def test_sanitizer_runtime_refused_for_a_plain_process():
    """A runtime built with ASan would kill a process without ASan loaded
    first: loong refuses, the process runs on."""
    python = PYTHONS.get("3.12") or PYTHONS[sorted(PYTHONS)[-1]]
    env = {k: v for k, v in target_env().items()
           if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    p = start(python, "sleep", 2, env=env)
    try:
        r = loong("attach", p.pid)
        assert r.returncode == 1
        assert b"built with AddressSanitizer" in r.stderr, r.stderr
        stdout, stderr = finish(p)
        assert stdout == EXPECTED["sleep"] and p.returncode == 3, stderr
    finally:
        kill([p])
