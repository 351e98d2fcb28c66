"""Signals stay the program's: its own handlers run, SIGINT and SIGTERM
end it as they would without loong."""
import json
import signal
import subprocess
import time

import pytest

from conftest import PROGRAMS, base_env, loong_cmd, only_proc_dir


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
