"""`make install`, then a toolkit built out of tree against the installed
headers only, loaded by the installed loong into every CPython found."""
import os
import shutil
import subprocess

import pytest

from conftest import (PROGRAMS, PYTHONS, ROOT, base_env, meta, only_proc_dir,
                      points_of, read_points, run)


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    pre = tmp_path_factory.mktemp("prefix")
    b = __import__("conftest").BUILD
    subprocess.run(["make", "-s", "-C", str(ROOT), "install",
                    "B=%s" % b, "PREFIX=%s" % pre],
                   check=True, capture_output=True)
    return pre


@pytest.fixture(scope="module")
def hello_so(prefix, tmp_path_factory):
    d = tmp_path_factory.mktemp("hello")
    src = d / "hello.c"
    src.write_text((ROOT / "tests/toolkits/hello.c").read_text())
    so = d / "hello.so"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2",
                    "-fPIC", "-shared", "-I", str(prefix / "include"),
                    "-o", str(so), str(src)], check=True, cwd=d)
    return so


def test_installed_tree(prefix):
    for rel in ["bin/loong", "include/loong/loong.h", "include/loong/errors.h",
                "include/loong/version.h", "lib/loong/toolkits/example.so",
                "lib/loong/python/sitecustomize.py",
                "lib/loong/python/loong/__init__.py"]:
        assert (prefix / rel).exists(), rel
    for ver in PYTHONS:
        tag = ver.replace(".", "")
        assert list((prefix / "lib/loong/python/loong").glob(
            "_runtime.cpython-%s-*.so" % tag)), ver


def test_out_of_tree_toolkit(python, prefix, hello_so, tmp_path):
    loong = prefix / "bin" / "loong"
    r = run([loong, "run", "-o", tmp_path / "out", "-t", hello_so, "--",
             python, PROGRAMS / "calls.py", "250"])
    assert r.returncode == 0, r.stderr
    d = only_proc_dir(tmp_path / "out")
    assert int((d / "hello.txt").read_text()) >= 252
    assert "hello,host=" in (d / "metrics.lp").read_text()


def test_toolkit_path_lists_it(prefix, hello_so):
    env = base_env(LOONG_TOOLKIT_PATH=hello_so.parent)
    r = run([prefix / "bin" / "loong", "toolkits"], env=env)
    assert r.returncode == 0
    names = [l.split("\t")[0] for l in r.stdout.decode().splitlines()]
    assert "hello" in names and "example" in names


# ---- more: exact counts, by name, relocated, headers alone ---------------



def test_out_of_tree_exact_counts(python, prefix, hello_so, tmp_path):
    """calls.py 250 starts leaf 250 times, mid, gen and <module> once: the
    point's running count and hello.txt say 253, and the program's output
    is what it is without loong."""
    args = [python, PROGRAMS / "calls.py", "250"]
    plain = run(args)
    r = run([prefix / "bin" / "loong", "run", "-o", tmp_path / "out",
             "--interval", "20ms", "-t", "%s:include=__main__" % hello_so,
             "--"] + args)
    assert (r.stdout, r.stderr, r.returncode) == \
        (plain.stdout, plain.stderr, 0)
    d = only_proc_dir(tmp_path / "out")
    assert (d / "hello.txt").read_text() == "253\n"
    pts = points_of(d / "metrics.lp", "hello")
    assert pts
    starts = [p[2]["starts"] for p in pts]
    assert starts == sorted(starts) and starts[-1] == 253
    for m, tags, fields, ts in pts:
        assert set(fields) == {"starts"}
        assert tags["program"] == "calls" and tags["pid"] == str(meta(d)["pid"])
    tk = meta(d)["toolkits"]
    assert [t["name"] for t in tk] == ["hello"]
    assert tk[0]["path"] == str(hello_so)


def test_out_of_tree_by_name_on_toolkit_path(prefix, hello_so, tmp_path):
    env = base_env(LOONG_TOOLKIT_PATH=hello_so.parent)
    loong = prefix / "bin" / "loong"
    r = run([loong, "toolkits"], env=env)
    rows = {l.split("\t")[0]: l for l in r.stdout.decode().splitlines()}
    assert rows["hello"] == ("hello\t1.0\tcounts Python function starts\t"
                             "options: include")
    r = run([loong, "toolkits", "-v"], env=env)
    lines = r.stdout.decode().splitlines()
    i = lines.index(rows["hello"])
    assert lines[i + 1] == "    include: only these modules or file globs"
    python = PYTHONS[max(PYTHONS, key=lambda v: tuple(map(int,
                                                          v.split("."))))] \
        if PYTHONS else pytest.skip("no CPython 3.8+")
    r = run([loong, "run", "-o", tmp_path / "out", "-t",
             "hello:include=__main__", "--", python, PROGRAMS / "calls.py",
             "10"], env=env)
    assert r.returncode == 0, r.stderr
    d = only_proc_dir(tmp_path / "out")
    assert (d / "hello.txt").read_text() == "13\n"
    assert meta(d)["toolkits"][0]["path"] == str(hello_so)
    # an option hello does not declare is refused before the program runs
    r = run([loong, "run", "-o", tmp_path / "o2", "-t", "hello:top=1", "--",
             "/bin/true"], env=env)
    assert r.returncode == 2 and b"'top'" in r.stderr


def test_installed_tree_is_relocatable(prefix, tmp_path):
    """Copy the installed tree elsewhere, call it through a symlink: it
    finds its own library folder (realpath of the binary), not the build's
    nor the first prefix's."""
    moved = tmp_path / "moved"
    shutil.copytree(prefix, moved, symlinks=True)
    link_dir = tmp_path / "bin"
    link_dir.mkdir()
    (link_dir / "lg").symlink_to(moved / "bin" / "loong")
    if not PYTHONS:
        pytest.skip("no CPython 3.8+")
    python = sorted(PYTHONS.items())[0][1]
    r = run([link_dir / "lg", "run", "-o", tmp_path / "out", "-t", "example",
             "--", python, "-c",
             "import loong, os; print(os.path.realpath(loong.__file__))"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == os.path.realpath(
        moved / "lib/loong/python/loong/__init__.py")
    d = only_proc_dir(tmp_path / "out")
    assert meta(d)["toolkits"][0]["path"] == os.path.realpath(
        moved / "lib/loong/toolkits/example.so")
    assert any(p[0] == "loong_example" for p in read_points(d / "metrics.lp"))


HEADER_USE = r"""
#include <loong/loong.h>
static int load(loong_toolkit *tk, const loong_api *api,
                const loong_options *o)
{
    (void)o;
    loong_callbacks cb;
    cb.call = 0; cb.exception = 0; cb.thread = 0; cb.gc = 0; cb.tick = 0;
    cb.reserved_greenlet = 0; cb.reserved_coroutine = 0;
    cb.allocation = 0;
    return api->set_callbacks(tk, &cb, sizeof cb);
}
static const loong_option_def opts[] = {{0, 0, 0}};
static const loong_toolkit_def def = {
    LOONG_ABI_MAJOR, LOONG_ABI_MINOR, sizeof(loong_toolkit_def), "cxx",
    "1.0", "built as C++ or pedantic C", opts, load, 0};
LOONG_TOOLKIT(def)
"""


@pytest.mark.parametrize("lang,compiler,flags", [
    ("c", "cc", ["-std=c99", "-pedantic-errors"]),
    ("c", "cc", ["-std=c11", "-pedantic-errors"]),
    ("c++", "c++", ["-std=c++11", "-pedantic-errors"])])
def test_installed_headers_alone_compile(prefix, tmp_path, lang, compiler,
                                         flags):
    """The installed headers are self-contained: strict C99/C11 and C++
    (extern "C") toolkits build with -Werror, and the result loads."""
    if not shutil.which(compiler):
        pytest.skip("no %s" % compiler)
    src = tmp_path / ("t.cc" if lang == "c++" else "t.c")
    src.write_text(HEADER_USE)
    so = tmp_path / "cxx.so"
    r = subprocess.run([compiler] + flags + ["-Wall", "-Wextra", "-Werror",
                       "-fPIC", "-shared", "-I", str(prefix / "include"),
                       "-o", str(so), str(src)], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    nm = subprocess.run(["nm", "-D", "--defined-only", str(so)],
                        capture_output=True, text=True).stdout
    assert " loong_toolkit_entry" in nm  # not C++-mangled
    r = run([prefix / "bin" / "loong", "toolkits"],
            env=base_env(LOONG_TOOLKIT_PATH=tmp_path))
    assert "cxx\t1.0\tbuilt as C++ or pedantic C\toptions: none" in \
        r.stdout.decode().splitlines()


def test_destdir_staging(tmp_path):
    stage = tmp_path / "stage"
    b = __import__("conftest").BUILD
    r = subprocess.run(["make", "-s", "-C", str(ROOT), "install", "B=%s" % b,
                        "PREFIX=/opt/loong-test", "DESTDIR=%s" % stage],
                       capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    assert not os.path.exists("/opt/loong-test")
    root = stage / "opt" / "loong-test"
    for rel in ["bin/loong", "include/loong/loong.h",
                "lib/loong/toolkits/example.so",
                "lib/loong/python/sitecustomize.py"]:
        assert (root / rel).is_file(), rel
    r = run([root / "bin" / "loong", "--version"])
    assert r.returncode == 0 and r.stdout.startswith(b"loong ")
