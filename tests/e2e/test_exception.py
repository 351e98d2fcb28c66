"""The exception toolkit on every CPython found: exact counts, types,
messages and stacks of known exceptions (caught, uncaught, in threads,
chained, in generators and coroutines, re-raised), bounded memory."""
import json

import pytest

from conftest import (LOONG, PROGRAMS, loong_cmd, only_proc_dir, points_of,
                      run)


def entries(d):
    out = {}
    for line in (d / "exceptions.jsonl").read_text().splitlines():
        e = json.loads(line)
        top = e["stack"][0]["function"] if e["stack"] else "-"
        out[(e["type"], top)] = e
    return out


def profile(python, tmp_path, opts="", args=("die",)):
    argv = [python, PROGRAMS / "exc_target.py"] + list(args)
    plain = run(argv)
    prof = run(loong_cmd(tmp_path / "out", "exception" + opts) + argv)
    # the program cannot tell: same output, same traceback, same status
    assert (prof.stdout, prof.stderr, prof.returncode) == \
        (plain.stdout, plain.stderr, plain.returncode)
    return only_proc_dir(tmp_path / "out")


def test_known_exceptions(python, tmp_path):
    d = profile(python, tmp_path, ":include=__main__")
    e = entries(d)

    def counts(t, fn):
        x = e[(t, fn)]
        return x["raised"], x["handled"], x["uncaught"]

    assert counts("builtins.KeyError", "lookup") == (1000, 1000, 0)
    assert e[("builtins.KeyError", "lookup")]["message"] == "user0"
    deep = e[("__main__.AppError", "deep")]
    assert (deep["raised"], deep["handled"], deep["uncaught"]) == (1, 1, 0)
    assert deep["message"] == "deep failure"
    names = [f["function"] for f in deep["stack"]]
    assert names == ["deep"] * 6 + ["caught_deep", "<module>"]
    assert deep["line"] == 26
    # chained: both handled, each where it was raised
    assert counts("builtins.ValueError", "chained") == (1, 1, 0)
    assert counts("__main__.AppError", "chained") == (1, 1, 0)
    assert e[("__main__.AppError", "chained")]["message"] == "wrapped"
    # a bare raise re-raises the same exception: one raise, handled once
    assert counts("builtins.TypeError", "reraised") == (1, 1, 0)
    assert counts("builtins.LookupError", "gen") == (1, 1, 0)
    assert e[("builtins.OSError", "coro")]["raised"] == 1
    # uncaught in a thread, and the one that ends the process
    assert counts("builtins.RuntimeError", "thread_body") == (1, 0, 1)
    assert e[("builtins.RuntimeError", "thread_body")]["thread"] > 1
    assert counts("builtins.ZeroDivisionError", "<module>") == (1, 0, 1)
    # the filter kept everything else out
    assert all(f["module"] == "__main__"
               for x in e.values() for f in x["stack"][:1])


def test_points_per_interval(python, tmp_path):
    d = profile(python, tmp_path, ":include=__main__,top=3")
    pts = points_of(d / "metrics.lp", "loong_exception")
    by_type = {}
    for m, tags, fields, ts in pts:
        assert set(fields) == {"count", "handled", "uncaught"}
        key = (tags["type"], tags.get("function"))
        by_type[key] = by_type.get(key, 0) + fields["count"]
    assert by_type[("builtins.KeyError", "lookup")] == 1000
    # at most 3 named per interval, the rest summed as other
    per_ts = {}
    for m, tags, fields, ts in pts:
        per_ts.setdefault(ts, []).append(tags["type"])
    for types in per_ts.values():
        assert len([t for t in types if t != "other"]) <= 3
    assert sum(f["count"] for m, t, f, ts in pts) == \
        sum(x["raised"] for x in entries(d).values())


def test_uncaught_only(python, tmp_path):
    d = profile(python, tmp_path, ":which=uncaught")
    e = entries(d)
    assert {k[0] for k in e} == {"builtins.RuntimeError",
                                 "builtins.ZeroDivisionError"}


def test_bounded_entries(python, tmp_path):
    # 2000 distinct (type, stack) pairs: only 50 kept, the rest counted
    prog = tmp_path / "many.py"
    prog.write_text(
        "def mk(i):\n"
        "    src = 'def f%d():\\n    raise ValueError(%d)\\n' % (i, i)\n"
        "    ns = {}\n"
        "    exec(compile(src, 'gen%d.py' % i, 'exec'), ns)\n"
        "    return ns['f%d' % i]\n"
        "for i in range(2000):\n"
        "    try:\n"
        "        mk(i)()\n"
        "    except ValueError:\n"
        "        pass\n"
        "print('ok')\n")
    r = run(loong_cmd(tmp_path / "out", "exception:max_entries=50") +
            [python, prog])
    assert r.returncode == 0 and r.stdout == b"ok\n"
    d = only_proc_dir(tmp_path / "out")
    assert len((d / "exceptions.jsonl").read_text().splitlines()) <= 50
    assert "were not kept" in (d / "loong.log").read_text()


@pytest.mark.parametrize("opts,word", [
    (":which=some", "which=some"), (":top=0", "top=0"),
    (":max_entries=x", "max_entries=x"),
])
def test_bad_options_refused(python, tmp_path, opts, word):
    r = run([LOONG, "run", "-o", tmp_path, "-t", "exception" + opts, "--",
             python, "-c", "print(1)"])
    assert r.returncode == 0 and r.stdout == b"1\n"
    assert word in (only_proc_dir(tmp_path) / "loong.log").read_text()


def test_report_section_in_chromium(tmp_path):
    """loong report shows the exceptions, uncaught first, with counts and
    stacks, in a real browser, with no console error."""
    import os
    import pathlib

    import cdp
    from conftest import PYTHONS
    if not os.access(cdp.CHROMIUM, os.X_OK):
        pytest.skip("%s not found" % cdp.CHROMIUM)
    if not PYTHONS:
        pytest.skip("no CPython 3.8+ found")
    d = profile(PYTHONS[sorted(PYTHONS)[-1]], tmp_path, ":include=__main__")
    r = run([LOONG, "report", d])
    assert r.returncode == 0, r.stderr
    chromium = cdp.Chromium(tmp_path / "chromium")
    page = None
    try:
        page = chromium.page()
        url = pathlib.Path(d / "report.html").resolve().as_uri()
        page.open(url)
        assert page.wait_for("document.readyState === 'complete'")
        page.evaluate("1")
        assert page.errors() == []
        items = page.evaluate(
            "[...document.querySelectorAll('#exceptions-list details')]"
            ".map(d => d.querySelector('summary').innerText)")
        assert len(items) == len(entries(d))
        # uncaught first: the thread's and the program's end
        assert {items[0].split(":")[0], items[1].split(":")[0]} == \
            {"builtins.RuntimeError", "builtins.ZeroDivisionError"}
        assert "UNCAUGHT 1" in items[0]
        key = [i for i in items if i.startswith("builtins.KeyError")][0]
        assert "raised 1,000, handled 1,000" in key or \
            "raised 1000, handled 1000" in key
        # open one: its stack is listed, innermost first
        page.evaluate("[...document.querySelectorAll('#exceptions-list "
                      "details')].find(d => d.innerText.startsWith("
                      "'__main__.AppError: deep')).open = true")
        stack = page.evaluate(
            "[...[...document.querySelectorAll('#exceptions-list details')]"
            ".find(d => d.open).querySelectorAll('li')].map(l => l.innerText"
            ".split(' ')[0])")
        assert stack == ["deep"] * 6 + ["caught_deep", "<module>"]
    finally:
        if page:
            page.close()
        chromium.close()
