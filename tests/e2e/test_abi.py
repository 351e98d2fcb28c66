"""Toolkit ABI: one binary for every CPython; wrong ABI, no entry symbol
or a refusing load are turned away with a clear message, nothing changed."""
import hashlib
import json
import os
import subprocess

import pytest

from conftest import (LIBDIR, LOONG, PROGRAMS, PYTHONS, ROOT, base_env,
                      loong_cmd, only_proc_dir, points_of, field_sum, run)

VARIANTS = {1: "newer ABI major", 2: "newer ABI minor", 3: "no entry",
            4: "refuses", 5: "registers then refuses", 6: "bad name",
            7: "no load function", 8: "entry returns NULL",
            9: "needs a CPython symbol"}


@pytest.fixture(scope="session")
def bad_sos(tmp_path_factory):
    d = tmp_path_factory.mktemp("badabi")
    sos = {}
    for v in VARIANTS:
        so = d / ("badabi%d.so" % v)
        subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror",
                        "-fPIC", "-shared", "-DVARIANT=%d" % v,
                        "-I", str(ROOT / "include"), "-o", str(so),
                        str(ROOT / "tests/toolkits/badabi.c")], check=True)
        sos[v] = so
    return sos


@pytest.mark.parametrize("variant,needle", [(1, "ABI 2.0"),
                                            (2, "newer"),
                                            (3, "loong_toolkit_entry")])
def test_cli_refuses_bad_toolkits(tmp_path, bad_sos, variant, needle):
    marker = tmp_path / "ran"
    r = run([LOONG, "run", "-o", tmp_path / "o", "-t", bad_sos[variant],
             "--", "/bin/sh", "-c", "touch %s" % marker])
    assert r.returncode == 2
    assert r.stderr.startswith(b"loong: ") and needle.encode() in r.stderr
    assert not marker.exists()


def test_refusing_toolkit_leaves_program_unchanged(python, tmp_path, bad_sos):
    args = [python, PROGRAMS / "calls.py", "20"]
    plain = run(args)
    prof = run(loong_cmd(tmp_path / "out", str(bad_sos[4]), "example")
               + args)
    assert (prof.stdout, prof.stderr, prof.returncode) == \
        (plain.stdout, plain.stderr, plain.returncode)
    d = only_proc_dir(tmp_path / "out")
    log = (d / "loong.log").read_text()
    assert "badabi" in log and "refused to load" in log
    # the other toolkit still works
    assert [t["name"] for t in json.loads((d / "meta.json").read_text())[
        "toolkits"]] == ["example"]


LOAD_BAD = r"""
import sys, loong
for path in sys.argv[1:]:
    try:
        loong.load(path)
    except Exception as e:
        print(type(e).__name__, e)
    else:
        print("loaded", path)
print("still running", loong.status()["toolkits"])
"""


def test_load_from_code_raises_clear_errors(python, tmp_path, bad_sos):
    env = base_env(PYTHONPATH=LIBDIR / "python", LOONG_OUT=tmp_path)
    r = run([python, "-c", LOAD_BAD] + [str(bad_sos[v]) for v in (1, 2, 3, 4)]
            + ["nosuch"], env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert "ABI 2.0" in lines[0] and lines[0].startswith("RuntimeError")
    assert "newer" in lines[1]
    assert "loong_toolkit_entry" in lines[2]
    assert "refused to load" in lines[3]
    assert "nosuch" in lines[4]
    assert lines[5] == "still running []"


def test_one_binary_for_every_interpreter(tmp_path):
    so = LIBDIR / "toolkits" / "example.so"
    digest = hashlib.sha256(so.read_bytes()).hexdigest()
    ran = []
    for ver, python in sorted(PYTHONS.items()):
        out = tmp_path / ver
        r = run(loong_cmd(out, str(so)) + [python, PROGRAMS / "calls.py",
                                           "100"])
        assert r.returncode == 0, r.stderr
        d = only_proc_dir(out)
        m = json.loads((d / "meta.json").read_text())
        assert m["python"]["version"].startswith(ver + ".")
        assert m["toolkits"][0]["path"] == str(so)
        assert field_sum(points_of(d / "metrics.lp", "loong_example"),
                         "calls") >= 100
        ran.append(ver)
    assert hashlib.sha256(so.read_bytes()).hexdigest() == digest
    if "3.8" in PYTHONS and "3.13" in PYTHONS:
        assert "3.8" in ran and "3.13" in ran
    # toolkits are built without Python's headers: no libpython symbol
    nm = subprocess.run(["nm", "-D", "--undefined-only", str(so)],
                        capture_output=True, text=True, check=True).stdout
    assert "Py" not in nm


# ---- more: every refusal is one clear line; refusals undo everything -----

def _abi():
    text = (ROOT / "include/loong/version.h").read_text()
    get = lambda name: int(text.split("#define " + name)[1].split()[0])
    return get("LOONG_ABI_MAJOR"), get("LOONG_ABI_MINOR")


ABI_MAJOR, ABI_MINOR = _abi()
CLI_REFUSED = {1: ["ABI %d.0" % (ABI_MAJOR + 1),
                   "ABI %d.%d" % (ABI_MAJOR, ABI_MINOR)],
               2: ["ABI %d.%d" % (ABI_MAJOR, ABI_MINOR + 1), "newer"],
               3: ["loong_toolkit_entry"], 6: ["Bad Name!"],
               7: ["no load function"], 8: ["no definition"],
               9: ["Py_IsInitialized"]}


@pytest.mark.parametrize("variant", sorted(CLI_REFUSED))
def test_cli_refusal_is_one_line_naming_the_file(tmp_path, bad_sos, variant):
    marker = tmp_path / "ran"
    out = tmp_path / "o"
    r = run([LOONG, "run", "-o", out, "-t", bad_sos[variant], "--",
             "/bin/sh", "-c", "touch %s" % marker])
    err = r.stderr.decode()
    assert r.returncode == 2 and not r.stdout
    assert err.startswith("loong: ") and err.count("\n") == 1, err
    assert str(bad_sos[variant]) in err
    for needle in CLI_REFUSED[variant]:
        assert needle in err, (needle, err)
    assert not marker.exists() and not out.exists()


def test_not_an_elf_file_is_refused(tmp_path):
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"\x7fELF but not really\n")
    marker = tmp_path / "ran"
    r = run([LOONG, "run", "-o", tmp_path / "o", "-t", junk, "--",
             "/bin/sh", "-c", "touch %s" % marker])
    err = r.stderr.decode()
    assert r.returncode == 2 and err.count("\n") == 1 and str(junk) in err
    assert not marker.exists()


def test_toolkits_lists_refused_ones_as_errors(tmp_path, bad_sos):
    """`loong toolkits` with refused toolkits in the search path: each is
    one `NAME<TAB>-<TAB>error: ...` line, the good ones still listed,
    exit status 1."""
    d = tmp_path / "tk"
    d.mkdir()
    names = {}
    for v in CLI_REFUSED:
        name = "bad%d" % v
        (d / (name + ".so")).symlink_to(bad_sos[v])
        names[name] = v
    r = run([LOONG, "toolkits"], env=base_env(LOONG_TOOLKIT_PATH=d))
    assert r.returncode == 1
    rows = {l.split("\t")[0]: l.split("\t")
            for l in r.stdout.decode().splitlines()}
    assert rows["example"][1] == "1.0"
    for name, v in names.items():
        assert rows[name][1] == "-" and rows[name][2].startswith("error: ")
        assert CLI_REFUSED[v][0] in rows[name][2], rows[name]


def test_refusing_load_undoes_its_callbacks(python, tmp_path, bad_sos):
    """Variant 5 registers callbacks that abort() and every capability,
    then refuses: the program must run exactly as without loong."""
    args = [python, PROGRAMS / "threads.py", "3", "200"]
    plain = run(args)
    prof = run(loong_cmd(tmp_path / "out", str(bad_sos[5]), interval="5ms")
               + args)
    assert (prof.stdout, prof.stderr, prof.returncode) == \
        (plain.stdout, plain.stderr, plain.returncode)
    d = only_proc_dir(tmp_path / "out")
    m = json.loads((d / "meta.json").read_text())
    assert m["toolkits"] == [] and m["exit"] == "exit"
    log = (d / "loong.log").read_text()
    assert str(bad_sos[5]) in log and "refused to load" in log


LOAD_UNDO = r"""
import gc, sys, threading, loong
try:
    loong.load(sys.argv[1])
except RuntimeError as e:
    print("RuntimeError", e)
st = loong.status()
print(st["toolkits"], st["hooks"])
def f():
    return 1
sum(f() for _ in range(1000))
t = threading.Thread(target=f); t.start(); t.join()
gc.collect()
loong.load("example", top=1000)
for _ in range(42):
    f()
print([t["name"] for t in loong.status()["toolkits"]])
"""


def test_load_from_code_refusal_undoes_everything(python, tmp_path,
                                                  bad_sos):
    env = base_env(PYTHONPATH=LIBDIR / "python", LOONG_OUT=tmp_path,
                   LOONG_INTERVAL_MS=5)
    r = run([python, "-c", LOAD_UNDO, str(bad_sos[5])], env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].startswith("RuntimeError loong: ")
    assert "refused to load" in lines[0]
    assert lines[1] == "[] 0"          # nothing loaded, no hook installed
    assert lines[2] == "['example']"   # and loong still works afterwards
    d = only_proc_dir(tmp_path)
    counts = {l.split("\t")[1]: int(l.split("\t")[0])
              for l in (d / "example.txt").read_text().splitlines()}
    assert counts["f"] == 42


WHICH_FILES = """
import os, loong, loong._runtime
print(os.path.basename(loong._runtime.__file__))
print(loong.status()["toolkits"][0]["path"])
"""


def test_same_file_same_bytes_on_each_interpreter(tmp_path):
    """The example.so each interpreter loads is one file: same real path,
    same bytes, and each interpreter's own runtime build loaded it."""
    so = LIBDIR / "toolkits" / "example.so"
    before = so.read_bytes()
    seen = {}
    for ver, python in sorted(PYTHONS.items()):
        out = tmp_path / ver
        r = run(loong_cmd(out, "example") + [python, "-c", WHICH_FILES])
        assert r.returncode == 0, r.stderr
        rt, path = r.stdout.decode().splitlines()
        assert rt.startswith("_runtime.cpython-%s" % ver.replace(".", ""))
        seen[ver] = path
        d = only_proc_dir(out)
        assert field_sum(points_of(d / "metrics.lp", "loong_example"),
                         "calls") > 0
    assert len(set(seen.values())) == 1, seen
    assert os.path.samefile(next(iter(seen.values())), so)
    assert so.read_bytes() == before
    for want in ("3.8", "3.13"):
        if want in PYTHONS:
            assert want in seen
