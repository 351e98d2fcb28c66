"""`import loong` from code, and living with cProfile, generators,
coroutines and long runs."""
import json
import pathlib

import pytest

from conftest import (LIBDIR, PROGRAMS, base_env, field_sum, loong_cmd,
                      only_proc_dir, points_of, run)


def code_env(tmp_path):
    return base_env(PYTHONPATH=LIBDIR / "python", LOONG_OUT=tmp_path)


API = r"""
import loong
def f():
    pass
loong.load("example", top=5)
st = loong.status()
print(st["toolkits"][0]["name"], st["toolkits"][0]["options"], st["started"])
for _ in range(100):
    f()
for bad in ({"name": "example"}, {"name": "example", "bogus": 1}):
    try:
        loong.load(**bad)
    except ValueError as e:
        print("ValueError", e)
loong.unload("example")
for _ in range(100):
    f()
try:
    loong.unload("example")
except ValueError as e:
    print("ValueError", e)
print(loong.status()["toolkits"], loong.status()["hooks"])
print(loong.status()["output"])
"""


def test_load_status_unload(python, tmp_path):
    r = run([python, "-c", API], env=code_env(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0] == "example {'top': '5'} True"
    assert lines[1].startswith("ValueError") and "already loaded" in lines[1]
    assert lines[2].startswith("ValueError") and "bogus" in lines[2]
    assert lines[3].startswith("ValueError") and "not loaded" in lines[3]
    assert lines[4] == "[] 0"
    d = pathlib.Path(lines[5])
    assert d.parent == tmp_path and d.name.startswith("python-c-")
    counts = {l.split("\t")[1]: int(l.split("\t")[0])
              for l in (d / "example.txt").read_text().splitlines()}
    assert counts["f"] == 100  # nothing counted after unload


CPROFILE = r"""
import cProfile, pstats, io, sys, loong
def target():
    pass
loong.load("example", top=1000)
pr = cProfile.Profile()
pr.enable()
for _ in range(300):
    target()
pr.disable()
st = pstats.Stats(pr)
n = [v[1] for k, v in st.stats.items() if k[2] == "target"][0]
mon = sys.monitoring
ids = [i for i in range(6) if mon.get_tool(i) == "loong"]
print(n, mon.get_tool(2), len(ids))
loong.unload("example")
print([mon.get_tool(i) for i in ids], mon.get_events(ids[0]))
"""


def test_cprofile_in_the_program(python, py, tmp_path):
    if tuple(map(int, py.split("."))) < (3, 12):
        pytest.skip("cProfile and loong share the profile hook below 3.12")
    r = run([python, "-c", CPROFILE], env=code_env(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0] == "300 None 1"  # cProfile freed id 2 after disable
    assert lines[1] == "[None] 0"
    d = only_proc_dir(tmp_path)
    counts = {l.split("\t")[1]: int(l.split("\t")[0])
              for l in (d / "example.txt").read_text().splitlines()}
    assert counts["target"] == 300


GENS = r"""
import asyncio
def g():
    for i in range(10):
        yield i
async def co():
    for _ in range(5):
        await asyncio.sleep(0)
for _ in range(3):
    list(g())
asyncio.run(co())
print("ok")
"""


def test_generators_and_coroutines(python, tmp_path):
    r = run(loong_cmd(tmp_path / "out", "example:top=1000") +
            [python, "-c", GENS])
    assert r.returncode == 0 and r.stdout == b"ok\n", r.stderr
    d = only_proc_dir(tmp_path / "out")
    counts = {}
    for l in (d / "example.txt").read_text().splitlines():
        c, q, m, _ = l.split("\t")
        if m == "__main__":
            counts[q] = int(c)
    assert counts["g"] == 3     # started 3 times, resumed 30 times
    assert counts["co"] == 1
    pts = [l for l in (d / "metrics.lp").read_text().splitlines()
           if l.startswith("loong_example,")]
    yields = sum(int(l.split("yields=")[1].split("i")[0]) for l in pts)
    assert yields >= 30 + 5


RSS = r"""
import sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
def f(x):
    return x
def run(n):
    for i in range(n):
        f(i)
run(500000)
a = rss()
run(3000000)
b = rss()
print(b - a)
"""


def test_memory_does_not_grow_per_event(python, tmp_path):
    r = run(loong_cmd(tmp_path / "out", "example", interval="100ms") +
            [python, "-c", RSS], timeout=300)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) < 2048  # kB


# ---- more: tool ids beside cProfile, exact generator accounting, reloads --


def version_of(py):
    return tuple(map(int, py.split(".")))


def example_counts(d, module="__main__"):
    counts = {}
    for l in (d / "example.txt").read_text().splitlines():
        c, q, m, _ = l.split("\t")
        if m == module:
            counts[q] = counts.get(q, 0) + int(c)
    return counts


CPROFILE_IDS = r"""
import cProfile, pstats, sys, loong
M = sys.monitoring
def target():
    pass
loong.load("example", top=1000)
mine = [i for i in range(6) if M.get_tool(i) == "loong"]
pr = cProfile.Profile()
pr.enable()
during = [M.get_tool(i) for i in range(6)]
for _ in range(250):
    target()
pr.disable()
n = [v[1] for k, v in pstats.Stats(pr).stats.items() if k[2] == "target"]
loong.unload("example")
print(repr((mine, during, n)))
print(M.get_tool(mine[0]), M.get_events(mine[0]))
"""


def test_cprofile_owns_tool_2_and_loong_another(python, py, tmp_path):
    if version_of(py) < (3, 12):
        pytest.skip("sys.monitoring is 3.12+")
    r = run([python, "-c", CPROFILE_IDS], env=code_env(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    mine, during, n = eval(lines[0])
    assert len(mine) == 1 and mine[0] != 2
    assert during[2] == "cProfile" and during[mine[0]] == "loong"
    assert n == [250]
    assert lines[1] == "None 0"
    assert example_counts(only_proc_dir(tmp_path))["target"] == 250


def test_generator_and_coroutine_event_totals_exact(python, py, tmp_path):
    """Only __main__'s code: starts, returns, yields are exact per version
    (resumes are not starts; a suspension is a yield, not a return)."""
    out = tmp_path / "out"
    r = run(loong_cmd(out, "example:top=1000,include=__main__") +
            [python, PROGRAMS / "gens.py"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[-1] == "ok"
    pts = points_of(only_proc_dir(out) / "metrics.lp", "loong_example")
    old = version_of(py) < (3, 12)
    assert field_sum(pts, "yields") == (74 if old else 70)
    assert field_sum(pts, "returns") == (10 if old else 9)
    # GeneratorExit unwinds thrower and the closed g; below 3.12 CPython
    # also runs never_started's frame to raise it there; 3.13 closes a
    # generator suspended outside any try block without running it
    assert field_sum(pts, "unwinds") == (3 if old else
                                         1 if py == "3.13" else 2)


def test_generator_starts_once_per_instance(python, py, tmp_path):
    out = tmp_path / "out"
    r = run(loong_cmd(out, "example:top=1000,include=__main__") +
            [python, PROGRAMS / "gens.py"])
    assert r.returncode == 0, r.stderr
    d = only_proc_dir(out)
    counts = {("<listcomp>" if q.endswith("<listcomp>") else q): c
              for q, c in example_counts(d).items()}
    expected = {"<module>": 1, "g": 5, "deleg": 1, "co": 1, "agen": 1,
                "consume": 1, "thrower": 1}
    if version_of(py) < (3, 12):
        expected["<listcomp>"] = 1  # the async comprehension, a function
        # closing a generator never started enters its frame below 3.12
        # (to raise GeneratorExit there): one start, as CPython reports
        expected["never_started"] = 1
    assert counts == expected
    pts = points_of(d / "metrics.lp", "loong_example")
    assert field_sum(pts, "calls") == sum(expected.values())


RELOAD = r"""
import threading, loong
def f():
    pass
loong.load("example", top=1000)
for _ in range(100):
    f()
loong.unload("example")
loong.load("example", top=1000)     # a second life: counts start again
for _ in range(30):
    f()
loong.unload("example")
t = threading.Thread(target=loong.load, args=("example",),
                     kwargs={"top": 1000})
t.start(); t.join()                 # loaded from another thread
for _ in range(7):
    f()                             # the main thread is seen
st = loong.status()
print([t["name"] for t in st["toolkits"]], st["hooks"] != 0)
"""


def test_reload_and_load_from_another_thread(python, tmp_path):
    r = run([python, "-c", RELOAD], env=code_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"['example'] True\n"
    d = only_proc_dir(tmp_path)
    assert example_counts(d)["f"] == 7
    log = (d / "loong.log").read_text()
    assert log.count("example: loaded from") == 3
    assert json.loads((d / "meta.json").read_text())["exit"] == "exit"


NO_FREE_ID = r"""
import sys, loong
M = sys.monitoring
for i in range(6):
    if M.get_tool(i) is None:
        M.use_tool_id(i, "mine%d" % i)
def f():
    pass
try:
    loong.load("example", top=1000)
    raised = None
except RuntimeError as e:
    raised = str(e)
for _ in range(50):
    f()
st = loong.status()
print(repr(raised))
print([t["name"] for t in st["toolkits"]], st["hooks"])
"""


def test_no_free_tool_id_is_an_error_not_a_silent_load(python, py,
                                                       tmp_path):
    if version_of(py) < (3, 12):
        pytest.skip("sys.monitoring is 3.12+")
    r = run([python, "-c", NO_FREE_ID], env=code_env(tmp_path))
    assert r.returncode == 0, r.stderr
    raised, state = r.stdout.decode().splitlines()
    names, hooks = state.rsplit(" ", 1)
    assert "loong: " in raised and "tool id" in raised
    assert names == "[]" and int(hooks) == 0


def test_import_loong_with_pythonpath_only(python, tmp_path):
    """The package's documented default: no LOONG_OUT means
    ./loong-out/PROGRAM-PID."""
    env = base_env(PYTHONPATH=LIBDIR / "python")
    r = run([python, "-c", "import loong; loong.load('example'); "
             "print(loong.status()['output'])"], env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = pathlib.Path(r.stdout.decode().strip())
    assert d.parent == tmp_path / "loong-out"
    assert (d / "meta.json").exists()


PRE_IMPORTED = "import sys; print('threading' in sys.modules)"


def test_loongs_own_imports_are_not_profiled(python, tmp_path, request):
    """An empty script runs no module body but __main__'s after start-up:
    a module body a toolkit sees executing was imported by loong itself,
    and is loong's cost, not the program's."""
    out = tmp_path / "out"
    empty = tmp_path / "empty.py"  # not -c: 3.13 imports linecache for it
    empty.write_text("")
    r = run(loong_cmd(out, "example:top=1000") + [python, empty])
    assert r.returncode == 0, r.stderr
    bodies = sorted(m for l in (only_proc_dir(out) / "example.txt")
                    .read_text().splitlines()
                    for c, q, m, _ in [l.split("\t")] if q == "<module>")
    assert bodies == ["__main__"]
