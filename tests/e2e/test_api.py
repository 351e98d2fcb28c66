"""`import loong` from code, and living with cProfile, generators,
coroutines and long runs."""
import json
import pathlib

import pytest

from conftest import LIBDIR, PROGRAMS, base_env, loong_cmd, only_proc_dir, run


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
