"""Signals stay the program's: its own handlers run, SIGINT and SIGTERM
end it as they would without loong."""
import json
import os
import select
import signal
import subprocess
import time

import pytest

from conftest import (PROGRAMS, base_env, field_sum, loong_cmd, meta,
                      only_proc_dir, points_of, run)


def run_and_signal(cmd, sig):
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=base_env())
    deadline = time.time() + 30
    first = b""
    while b"ready" not in first and time.time() < deadline:
        first = p.stdout.readline()
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    return first + out, err, p.returncode


@pytest.mark.parametrize("mode,sig", [("term", signal.SIGTERM),
                                      ("int", signal.SIGINT)])
def test_program_handlers_decide(python, tmp_path, mode, sig):
    args = [python, PROGRAMS / "sigprog.py", mode]
    plain = run_and_signal(args, sig)
    prof = run_and_signal(loong_cmd(tmp_path / "out", "example") + args, sig)
    assert prof == plain
    assert plain[2] == (9 if mode == "term" else 4)
    m = json.loads((only_proc_dir(tmp_path / "out") / "meta.json")
                   .read_text())
    assert m["exit"] == "exit"  # the program exited: loong flushed normally


# ---- more: dispositions, ignored SIGTERM, handlers that go on, sigwait ----


SIGCASES = PROGRAMS / "sigcases.py"


def signal_when_ready(cmd, sig, preexec=None, timeout=20):
    """Start cmd, wait (bounded) for "ready" on stdout, send sig, return
    (stdout, stderr, returncode)."""
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=base_env(),
                         preexec_fn=preexec)
    buf = b""
    deadline = time.time() + timeout
    try:
        while b"ready\n" not in buf and time.time() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 0.1)
            if r:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        assert b"ready\n" in buf, (buf, p.poll())
        p.send_signal(sig)
        out, err = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return buf + out, err, p.returncode


def both(python, tmp_path, mode, sig=None, preexec=None, exact_err=True):
    args = [python, SIGCASES, mode]
    lcmd = loong_cmd(tmp_path / "out", "example:top=1000") + args
    if sig is None:
        plain = run(args)
        prof = run(lcmd)
        plain = (plain.stdout, plain.stderr, plain.returncode)
        prof = (prof.stdout, prof.stderr, prof.returncode)
    else:
        plain = signal_when_ready(args, sig, preexec)
        prof = signal_when_ready(lcmd, sig, preexec)
    if exact_err:
        assert prof == plain
    else:  # where the signal lands in the program is a matter of timing
        assert (prof[0], prof[2]) == (plain[0], plain[2])
        assert prof[1].splitlines()[-1] == plain[1].splitlines()[-1]
    return plain


def top_work(d):
    for l in (d / "example.txt").read_text().splitlines():
        c, q, m, _ = l.split("\t")
        if (q, m) == ("work", "__main__"):
            return int(c)
    return 0


def test_dispositions_and_masks_identical(python, tmp_path):
    """getsignal() of every signal, the signal mask of the main thread and
    of a new thread, the kernel's ignored and blocked sets: all the same."""
    out, err, rc = both(python, tmp_path, "dispositions")
    assert rc == 0 and not err
    text = out.decode()
    assert "\n%d SIG_DFL\n" % signal.SIGTERM in text
    assert "\n%d default_int_handler\n" % signal.SIGINT in text
    assert "mask []" in text and "thread mask [[]]" in text


def test_ignored_sigterm_stays_ignored(python, tmp_path):
    out, err, rc = both(python, tmp_path, "ignore_term", signal.SIGTERM)
    assert rc == 0 and out == b"ready\nsurvived\n"
    assert meta(only_proc_dir(tmp_path / "out"))["exit"] == "exit"


def test_sigterm_ignored_by_the_parent_stays_ignored(python, tmp_path):
    """A program started with SIGTERM ignored (nohup-style): loong must not
    take it over, so SIGTERM still does nothing."""
    def ignore():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out, err, rc = both(python, tmp_path, "inherited", signal.SIGTERM,
                        preexec=ignore)
    assert rc == 0 and out.endswith(b"ready\nsurvived\n")
    assert b"SIG_IGN" in out.splitlines()[0]


def test_handler_that_goes_on(python, tmp_path):
    out, err, rc = both(python, tmp_path, "continue", signal.SIGTERM)
    assert rc == 5
    assert out == b"ready\nhandled [%d], going on\nafter\n" % signal.SIGTERM
    d = only_proc_dir(tmp_path / "out")
    assert meta(d)["exit"] == "exit"
    assert top_work(d) == 100  # 50 before, 50 after the signal


def test_sigterm_sent_to_itself_dies_by_it_after_flushing(python, tmp_path):
    out, err, rc = both(python, tmp_path, "selfkill")
    assert rc == -signal.SIGTERM and out == b"killing myself\n"
    d = only_proc_dir(tmp_path / "out")
    assert meta(d)["exit"] == "SIGTERM"
    assert top_work(d) == 50
    assert field_sum(points_of(d / "metrics.lp", "loong_example"),
                     "calls") >= 50


def test_sigwait_gets_sigterm_not_loong(python, tmp_path):
    """The program blocks SIGTERM and waits for it: loong's thread must not
    take the signal instead."""
    out, err, rc = both(python, tmp_path, "sigwait", signal.SIGTERM)
    assert rc == 0 and out == b"ready\ngot %d\n" % signal.SIGTERM
    assert meta(only_proc_dir(tmp_path / "out"))["exit"] == "exit"


def test_uncaught_keyboard_interrupt_identical(python, tmp_path):
    out, err, rc = both(python, tmp_path, "raw_int", signal.SIGINT,
                        exact_err=False)
    assert out == b"ready\n" and err.endswith(b"\nKeyboardInterrupt\n")
    assert err.startswith(b"Traceback (most recent call last):\n")
    assert rc == -signal.SIGINT  # 3.8+: dies by SIGINT
    assert meta(only_proc_dir(tmp_path / "out"))["exit"] == "exit"


def test_sigterm_handler_with_busy_threads(python, tmp_path):
    out, err, rc = both(python, tmp_path, "threads_term", signal.SIGTERM)
    assert rc == 9
    assert out == b"ready\nhandled %d in MainThread\n" % signal.SIGTERM
    assert meta(only_proc_dir(tmp_path / "out"))["exit"] == "exit"
