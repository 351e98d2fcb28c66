"""`loong run`: the program behaves exactly as without loong, and the
example toolkit's data arrives, on every CPython 3.8+ present."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from conftest import (LOONG, PROGRAMS, base_env, loong_cmd, meta, run,
                      only_proc_dir, points_of, field_sum, proc_dirs, run)


def top_counts(d):
    """example.txt -> {qualname: calls} (first entry wins)."""
    counts = {}
    for line in (d / "example.txt").read_text().splitlines():
        calls, qualname, module, where = line.split("\t")
        counts.setdefault((module, qualname), int(calls))
    return counts


def same_behaviour(python, args, tmp_path, cwd=None, toolkits=("example:top=1000",),
                   env=None):
    plain = run([python] + args, cwd=cwd, env=env)
    out = tmp_path / "out"
    prof = run(loong_cmd(out, *toolkits) + [python] + args, cwd=cwd, env=env)
    assert prof.stdout == plain.stdout
    assert prof.stderr == plain.stderr
    assert prof.returncode == plain.returncode
    return plain, out


def test_script_counts_are_exact(python, tmp_path):
    plain, out = same_behaviour(python, [PROGRAMS / "calls.py", "777"],
                                tmp_path)
    assert plain.returncode == 0
    d = only_proc_dir(out)
    assert d.name.startswith("calls-")
    counts = top_counts(d)
    assert counts[("__main__", "leaf")] == 777
    assert counts[("__main__", "mid")] == 1
    assert counts[("__main__", "gen")] == 1  # resumes are not starts
    points = points_of(d / "metrics.lp", "loong_example")
    assert points, "no example points"
    assert field_sum(points, "calls") >= 779
    assert field_sum(points, "yields") >= 777
    for m, tags, fields, ts in points:
        assert tags["program"] == "calls"
        assert tags["pid"] == d.name.split("-")[-1]
        assert ts > 1.6e18


def test_meta_json(python, py, tmp_path):
    same_behaviour(python, [PROGRAMS / "calls.py", "5", "x y"], tmp_path)
    m = meta(only_proc_dir(tmp_path / "out"))
    assert m["python"]["version"].startswith(py + ".")
    assert m["argv"][1:] == [str(PROGRAMS / "calls.py"), "5", "x y"]
    assert m["exit"] == "exit" and m["end"] and m["start"] <= m["end"]
    assert [t["name"] for t in m["toolkits"]] == ["example"]
    assert m["dropped"] == 0 and m["records"] >= 2
    assert m["sink"] == "dir"


def test_module_and_c_forms(python, tmp_path):
    same_behaviour(python, ["-m", "calls", "30"], tmp_path, cwd=PROGRAMS)
    d = only_proc_dir(tmp_path / "out")
    assert d.name.startswith("calls-")
    assert top_counts(d)[("__main__", "leaf")] == 30
    (tmp_path / "out2").mkdir()
    same_behaviour(python, ["-c", "import sys; print(sys.argv)", "a"],
                   tmp_path / "out2")
    assert only_proc_dir(tmp_path / "out2" / "out").name.startswith(
        "python-c-")


def test_threads(python, tmp_path):
    same_behaviour(python, [PROGRAMS / "threads.py", "4", "500"], tmp_path)
    d = only_proc_dir(tmp_path / "out")
    assert top_counts(d)[("__main__", "work")] == 2000
    points = points_of(d / "metrics.lp", "loong_example")
    assert field_sum(points, "threads_started") >= 4
    assert field_sum(points, "threads_ended") >= 4


@pytest.mark.parametrize("mode,code", [("normal", 0), ("sysexit", 3),
                                       ("exception", 1), ("osexit", 7)])
def test_exits(python, tmp_path, mode, code):
    plain, out = same_behaviour(python, [PROGRAMS / "exits.py", mode],
                                tmp_path)
    assert plain.returncode == code
    d = only_proc_dir(out)
    if mode == "osexit":
        return  # os._exit skips every exit handler, loong's included
    assert top_counts(d)[("__main__", "work")] == 200
    assert meta(d)["exit"] == "exit"


def test_sigterm_flushes_and_dies_by_the_signal(python, tmp_path):
    out = tmp_path / "out"
    p = subprocess.Popen([str(c) for c in loong_cmd(out, "example:top=1000") +
                          [python, PROGRAMS / "exits.py", "sigterm"]],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=base_env())
    deadline = time.time() + 30
    line = b""
    while b"ready" not in line and time.time() < deadline:
        line = p.stdout.readline()
    assert b"ready" in line
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGTERM
    d = only_proc_dir(out)
    assert meta(d)["exit"] == "SIGTERM"
    assert field_sum(points_of(d / "metrics.lp", "loong_example"),
                     "calls") >= 200
    assert top_counts(d)[("__main__", "work")] == 200


def test_children_profiled_in_own_folders(python, tmp_path):
    same_behaviour(python, [PROGRAMS / "spawn.py"], tmp_path)
    dirs = proc_dirs(tmp_path / "out")
    names = sorted(d.name.rsplit("-", 1)[0] for d in dirs)
    assert names == ["calls", "python-c", "spawn"]
    for d in dirs:
        assert meta(d)["exit"] == "exit"
        assert (d / "metrics.lp").stat().st_size > 0
    calls = [d for d in dirs if d.name.startswith("calls-")][0]
    assert top_counts(calls)[("__main__", "leaf")] == 50


def test_fork_child_profiles_into_its_own_folder(python, tmp_path):
    plain, out = same_behaviour(python, [PROGRAMS / "forker.py"], tmp_path)
    assert plain.stdout.splitlines()[-1] == b"parent done 0"
    dirs = proc_dirs(out)
    assert len(dirs) == 2
    pids = {int(d.name.rsplit("-", 1)[1]): d for d in dirs}
    parent = [d for d in dirs if meta(d)["ppid"] not in pids][0]
    child = [d for d in dirs if d is not parent][0]
    assert meta(child)["ppid"] == meta(parent)["pid"]
    pc, cc = top_counts(parent), top_counts(child)
    assert pc[("__main__", "parent_work")] == 100
    assert ("__main__", "child_work") not in pc
    assert cc[("__main__", "child_work")] == 300
    assert ("__main__", "parent_work") not in cc
    for d in dirs:
        read = points_of(d / "metrics.lp", "loong_example")
        assert read and {p[1]["pid"] for p in read} == {d.name.split("-")[-1]}


def test_program_sees_nothing_different(python, tmp_path):
    same_behaviour(python, [PROGRAMS / "environment.py", "--flag", "é"],
                   tmp_path)


def test_user_sitecustomize_still_runs(python, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\nprint('user sitecustomize ran', file=sys.stderr)\n")
    env = base_env(PYTHONPATH=site)
    plain, out = same_behaviour(python, [PROGRAMS / "environment.py"],
                                tmp_path, env=env)
    assert b"user sitecustomize ran" in plain.stderr
    assert only_proc_dir(out)


def test_no_toolkit_still_writes_meta(python, tmp_path):
    plain, out = same_behaviour(python, [PROGRAMS / "calls.py", "10"],
                                tmp_path, toolkits=())
    m = meta(only_proc_dir(out))
    assert m["toolkits"] == [] and m["exit"] == "exit"


def test_filters(python, tmp_path):
    (tmp_path / "a").mkdir()
    same_behaviour(python, [PROGRAMS / "calls.py", "40"], tmp_path / "a",
                   toolkits=("example:include=__main__,top=1000",))
    counts = top_counts(only_proc_dir(tmp_path / "a" / "out"))
    assert {m for m, q in counts} == {"__main__"}
    assert counts[("__main__", "leaf")] == 40
    (tmp_path / "b").mkdir()
    same_behaviour(python, [PROGRAMS / "calls.py", "40"], tmp_path / "b",
                   toolkits=("example:exclude=__main__,top=1000",))
    counts = top_counts(only_proc_dir(tmp_path / "b" / "out"))
    assert counts and "__main__" not in {m for m, q in counts}


OLD = sorted(pathlib.Path(os.path.expanduser("~/.pyenv/versions")).glob(
    "[23].*/bin/python[23].[0-9]")) if os.path.isdir(
        os.path.expanduser("~/.pyenv/versions")) else []
OLD = [p for p in OLD if p.name in ("python2.7", "python3.6", "python3.7")]


@pytest.mark.skipif(not OLD, reason="no Python 2.7/3.6/3.7 found")
def test_unsupported_interpreters_run_unchanged(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\n"
                                           "sys.stderr.write('user site\\n')\n")
    env = base_env(PYTHONPATH=site)
    for py in OLD:
        args = [py, "-c", "import sys; print(sys.version_info[:2]); "
                "print(sys.path[1:3])"]
        plain = run(args, env=env)
        prof = run(loong_cmd(tmp_path / py.name, "example") + args, env=env)
        assert plain.stderr == b"user site\n"
        assert (prof.stdout, prof.stderr, prof.returncode) == \
            (plain.stdout, plain.stderr, plain.returncode), py
        assert proc_dirs(tmp_path / py.name) == []


def test_file_glob_filter(python, tmp_path):
    same_behaviour(python, [PROGRAMS / "calls.py", "40"], tmp_path,
                   toolkits=("example:include=json|*/programs/*,top=1000",))
    counts = top_counts(only_proc_dir(tmp_path / "out"))
    assert counts == {("__main__", "leaf"): 40, ("__main__", "mid"): 1,
                      ("__main__", "gen"): 1, ("__main__", "<module>"): 1}


def test_raw_thread_is_profiled(python, tmp_path):
    out = tmp_path / "out"
    r = run(loong_cmd(out, "example:top=1000", interval="100ms") +
            [python, PROGRAMS / "rawthread.py"])
    assert r.returncode == 0 and r.stdout == b"ok\n", r.stderr
    assert top_counts(only_proc_dir(out))[("__main__", "work")] > 1000


def test_meta_reports_the_running_interpreter(tmp_path):
    """The runtime built for pyenv's 3.11 also loads into Debian's 3.11:
    meta.json must name the interpreter that runs, not the build's."""
    import subprocess as sp
    deb = "/usr/bin/python3"
    if not os.path.exists(deb):
        pytest.skip("no Debian python3")
    ver = sp.run([deb, "-c", "import platform; print(platform.python_version())"],
                 capture_output=True, text=True).stdout.strip()
    from conftest import PYTHONS
    if ver.rsplit(".", 1)[0] not in PYTHONS:
        pytest.skip("no runtime built for Debian's python %s" % ver)
    r = run(loong_cmd(tmp_path / "out") + [deb, "-c", "pass"])
    assert r.returncode == 0, r.stderr
    m = meta(only_proc_dir(tmp_path / "out"))
    assert m["python"]["version"] == ver
