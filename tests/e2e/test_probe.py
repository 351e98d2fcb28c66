"""The whole tool interface through a test toolkit (tests/toolkits/probe.c)
built without Python's headers: every event kind, current and all-thread
stacks, code identities, and filters that disable excluded code."""
import json
import subprocess

import pytest

from conftest import (PROGRAMS, ROOT, LIBDIR, base_env, loong_cmd,
                      only_proc_dir, run)


@pytest.fixture(scope="session")
def probe_so(tmp_path_factory):
    out = tmp_path_factory.mktemp("probe") / "probe.so"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1",
                    "-fPIC", "-shared", "-I", str(ROOT / "include"),
                    "-o", str(out), str(ROOT / "tests/toolkits/probe.c")],
                   check=True)
    return out


def test_probe_sees_every_event_kind(python, py, tmp_path, probe_so):
    args = [python, PROGRAMS / "probe_target.py"]
    plain = run(args)
    prof = run(loong_cmd(tmp_path / "out", str(probe_so), interval="200ms")
               + args)
    assert (prof.stdout, prof.stderr, prof.returncode) == \
        (plain.stdout, plain.stderr, plain.returncode)
    assert plain.stdout == b"collected True\ndone\n"
    d = only_proc_dir(tmp_path / "out")
    p = json.loads((d / "probe.json").read_text())
    assert p["ids_ok"] == 1
    assert p["calls"]["start"] > 10
    assert p["calls"]["return"] > 10
    assert p["calls"]["unwind"] >= 1
    assert p["threads"]["start"] >= 1 and p["threads"]["end"] >= 1
    assert p["max_thread"] >= 2
    assert p["gc"]["start"] >= 1 and p["gc"]["end"] == p["gc"]["start"]
    assert p["gc"]["collected"] >= 2
    assert p["ticks"] >= 3
    # timestamps: monotonic on the main thread, across the switch from
    # clock_gettime to the calibrated TSC (at ~150 ms), and durations true
    assert p["monotonic_ok"] == 1
    assert 0.69e9 <= p["timed_ns"] <= 0.95e9
    # the calling thread's stack at the first call of marked()
    frames = p["mark_stack"].split(";")
    assert frames[0].startswith("marked:")
    assert frames[1].startswith("outer:")
    assert frames[2].startswith("main:")
    # every version: sys.monitoring on 3.12+, the trace hook below
    assert p["exceptions"]["raised"] >= 2
    assert p["exceptions"]["handled"] >= 2
    assert p["exceptions"]["unwound"] >= 1
    assert p["mark_exc"] == "builtins.KeyError@marked:21"
    # every thread's stack, taken while one thread is blocked
    stacks = p["stacks"]
    blocked = [s for s in stacks if "blocked_here" in s["stack"]]
    assert blocked and blocked[0]["main"] == 0 and blocked[0]["state"] == 2
    main = [s for s in stacks if s["main"] == 1]
    assert len(main) == 1 and "main_wait" in main[0]["stack"]
    # the program's two threads only: loong's own (the one asking among
    # them) are not the program's
    assert len(stacks) == 2, stacks


FILTER_PROG = r"""
import sys, loong
def f():
    pass
loong.load("example", exclude="__main__")
before = loong.status()["hook_calls"]
for _ in range(20000):
    f()
print(loong.status()["hook_calls"] - before)
"""


def test_excluded_code_costs_nothing_after_first_call(python, py, tmp_path):
    env = base_env(PYTHONPATH=LIBDIR / "python", LOONG_OUT=tmp_path)
    r = run([python, "-c", FILTER_PROG], env=env)
    assert r.returncode == 0, r.stderr
    reached = int(r.stdout)
    if tuple(map(int, py.split("."))) >= (3, 12):
        # disabled in sys.monitoring after its first call and return
        assert reached < 50
    else:
        # the profile hook cannot disable: every call reaches loong, which
        # drops it after one lookup in the code object
        assert reached >= 40000


def test_full_buffer_drops_are_counted_exactly(python, tmp_path, probe_so):
    env = base_env(LOONG_BUFFER_KB=16)
    args = [python, PROGRAMS / "probe_target.py"]
    r = run(loong_cmd(tmp_path / "out", str(probe_so) + ":flood=3000",
                      interval="100ms") + args, env=env)
    assert r.returncode == 0 and r.stdout.endswith(b"done\n")
    d = only_proc_dir(tmp_path / "out")
    p = json.loads((d / "probe.json").read_text())
    m = json.loads((d / "meta.json").read_text())
    lines = (d / "metrics.lp").read_text().splitlines()
    flood = [l for l in lines if l.startswith("probe_flood,")]
    runtime = [l for l in lines if l.startswith("loong_runtime,")]
    assert p["flood_sent"] >= 3000 and p["flood_failed"] > 0
    assert len(flood) == p["flood_sent"] - p["flood_failed"]
    assert m["records"] == len(lines)
    self_dropped = p["ticks"] - len(runtime)
    assert m["dropped_buffer_full"] == p["flood_failed"] + self_dropped
    assert m["dropped"] == m["dropped_buffer_full"]
    # the runtime reports its drops as a point too
    last = [l for l in runtime][-1]
    assert "dropped=" in last


@pytest.mark.parametrize("code", [0, 5])
def test_exit_with_busy_daemon_threads_never_hangs(python, tmp_path,
                                                   probe_so, code):
    for i in range(3):
        out = tmp_path / ("out%d" % i)
        r = run(loong_cmd(out, str(probe_so), "example", interval="50ms")
                + [python, PROGRAMS / "daemons.py", str(code)], timeout=60)
        assert r.returncode == code and r.stdout == b"exiting\n"
        assert r.stderr == b""
        assert json.loads((only_proc_dir(out) / "meta.json").read_text())[
            "exit"] == "exit"
