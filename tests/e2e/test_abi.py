"""Toolkit ABI: one binary for every CPython; wrong ABI, no entry symbol
or a refusing load are turned away with a clear message, nothing changed."""
import hashlib
import json
import subprocess

import pytest

from conftest import (LIBDIR, LOONG, PROGRAMS, PYTHONS, ROOT, base_env,
                      loong_cmd, only_proc_dir, points_of, field_sum, run)

VARIANTS = {1: "newer ABI major", 2: "newer ABI minor", 3: "no entry",
            4: "refuses"}


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
