"""`make install`, then a toolkit built out of tree against the installed
headers only, loaded by the installed loong into every CPython found."""
import subprocess

import pytest

from conftest import PROGRAMS, PYTHONS, ROOT, base_env, only_proc_dir, run


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
