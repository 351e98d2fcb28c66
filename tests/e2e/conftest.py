"""End-to-end test support: real interpreters, real processes, real files.

Driven by Debian's python3 with pytest; the programs under test run under
every CPython 3.8+ that tools/find-pythons finds. A version not found is
reported as skipped, by name.
"""
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("LOONG_BUILD", ROOT / "build"))
LOONG = BUILD / "bin" / "loong"
LIBDIR = BUILD / "lib" / "loong"
PROGRAMS = ROOT / "tests" / "programs"
MINORS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
SANITIZE = os.environ.get("LOONG_SANITIZE") == "1"


def _find_pythons():
    out = subprocess.run([str(ROOT / "tools" / "find-pythons")],
                         capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        ver, path = line.split(None, 1)
        found[ver] = path
    return found


PYTHONS = _find_pythons()


def _sanitizer_env():
    """With a sanitizer build the runtime needs ASan loaded first."""
    if not SANITIZE:
        return {}
    lib = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                         capture_output=True, text=True).stdout.strip()
    return {"LD_PRELOAD": lib,
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=86",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=87"}


def base_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LOONG_", "PYTHON"))}
    env.update(_sanitizer_env())
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def pytest_generate_tests(metafunc):
    if "py" in metafunc.fixturenames:
        params = []
        for minor in MINORS:
            marks = []
            if minor not in PYTHONS:
                marks.append(pytest.mark.skip(
                    reason="CPython %s not found on this machine" % minor))
            params.append(pytest.param(minor, marks=marks, id="py" + minor))
        metafunc.parametrize("py", params)


@pytest.fixture
def python(py):
    """The interpreter path for the parametrized minor version."""
    return PYTHONS[py]


def run(cmd, env=None, cwd=None, timeout=120, input=None):
    return subprocess.run([str(c) for c in cmd], capture_output=True,
                          env=env if env is not None else base_env(),
                          cwd=cwd, timeout=timeout, input=input)


def loong_cmd(out, *toolkits, args=(), interval=None):
    cmd = [LOONG, "run", "-o", out]
    for t in toolkits:
        cmd += ["-t", t]
    if interval:
        cmd += ["--interval", interval]
    return cmd + list(args) + ["--"]


def proc_dirs(out):
    out = pathlib.Path(out)
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.is_dir())


def only_proc_dir(out):
    dirs = proc_dirs(out)
    assert len(dirs) == 1, "expected one process folder, got %r" % dirs
    return dirs[0]


def meta(d):
    return json.loads((pathlib.Path(d) / "meta.json").read_text())


# ---- a strict line protocol reader, independent of the encoder ----------

def _split_unescaped(s, seps):
    """Split s at the first unescaped char in seps; return (head, sep, rest)."""
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c in seps:
            return s[:i], c, s[i + 1:]
        i += 1
    return s, "", ""


def _unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in ',= \\"':
            out.append(s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def _field_value(v):
    if v.startswith('"'):
        assert v.endswith('"') and len(v) >= 2, v
        return _unescape(v[1:-1])
    if v.endswith("i"):
        return int(v[:-1])
    if v in ("true", "false"):
        return v == "true"
    return float(v)


def parse_lp_line(line):
    """(measurement, tags, fields, timestamp) of one line; asserts form."""
    assert "\n" not in line
    head, sep, rest = _split_unescaped(line, " ")
    assert sep == " ", "no fields in %r" % line
    meas, sep, tagstr = _split_unescaped(head, ",")
    tags = {}
    while tagstr:
        kv, _, tagstr = _split_unescaped(tagstr, ",")
        k, eq, v = _split_unescaped(kv, "=")
        assert eq == "=", "bad tag %r in %r" % (kv, line)
        tags[_unescape(k)] = _unescape(v)
    # fields: split on unescaped space outside quotes
    i, inq = 0, False
    while i < len(rest):
        c = rest[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            inq = not inq
        elif c == " " and not inq:
            break
        i += 1
    fieldstr, ts = rest[:i], rest[i + 1:]
    fields = {}
    j, start, inq = 0, 0, False
    parts = []
    while j <= len(fieldstr):
        c = fieldstr[j] if j < len(fieldstr) else ","
        if c == "\\" and j < len(fieldstr):
            j += 2
            continue
        if c == '"':
            inq = not inq
        elif c == "," and not inq:
            parts.append(fieldstr[start:j])
            start = j + 1
        j += 1
    for p in parts:
        k, eq, v = _split_unescaped(p, "=")
        assert eq == "=", "bad field %r in %r" % (p, line)
        fields[_unescape(k)] = _field_value(v)
    return _unescape(meas), tags, fields, int(ts) if ts else None


def read_points(path):
    text = pathlib.Path(path).read_text()
    assert text == "" or text.endswith("\n")
    return [parse_lp_line(l) for l in text.splitlines()]


def points_of(path, measurement):
    return [p for p in read_points(path) if p[0] == measurement]


def field_sum(points, field):
    return sum(p[2].get(field, 0) for p in points)
