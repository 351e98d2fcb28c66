"""loong report: the HTML page of a process folder, its refusals, and the
page itself in a real headless Chromium driven over the DevTools protocol
(tests/e2e/cdp.py): no console error, no network, the flame graph, zoom,
search, table sorting, slow calls, hostile names and a large profile.

The Chromium tests skip when /usr/bin/chromium is absent. One browser
serves the whole module; every wait is bounded."""
import json
import os
import pathlib
import random
import re
import time

import pytest

import cdp
from conftest import LOONG, MINORS, PROGRAMS, PYTHONS, loong_cmd, \
    only_proc_dir, run


def newest_python():
    for m in reversed(MINORS):
        if m in PYTHONS:
            return PYTHONS[m]
    pytest.skip("no CPython 3.8+ found")


def report(*args):
    return run([LOONG, "report"] + [str(a) for a in args], timeout=60)


def one_error_line(r):
    err = r.stderr.decode()
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err.rstrip("\n")


def profile(tmp, program, spec):
    out = tmp / "out"
    r = run(loong_cmd(out, spec) + [newest_python(), PROGRAMS / program])
    assert r.returncode == 0 and r.stdout == b"done\n", r.stderr
    return only_proc_dir(out)


def fake_folder(d, files):
    """A process folder from {name: bytes or str}, with a meta.json."""
    d.mkdir(parents=True)
    files = dict(files)
    files.setdefault("meta.json", json.dumps({
        "loong_version": "0.1.0", "pid": 42, "program": "fake",
        "argv": ["python3", "fake.py"], "python": {"version": "3.12.1"},
        "start": "2026-01-01T00:00:00.000000Z",
        "end": "2026-01-01T00:00:01.500000Z", "exit": "exit",
        "toolkits": [{"name": "function", "version": "0.1", "options": {}}]}))
    for name, data in files.items():
        p = d / name
        if isinstance(data, str):
            data = data.encode()
        p.write_bytes(data)
    return d


def leftovers(d):
    return [p.name for p in pathlib.Path(d).iterdir()
            if p.name.startswith(".report.html.")]


# ---- the command -----------------------------------------------------------

@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    """report_target.py profiled with slow calls, and its report."""
    d = profile(tmp_path_factory.mktemp("target"), "report_target.py",
                "function:slow=20ms")
    r = report(d)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "%s\n" % (d / "report.html")
    return d


def test_report_written_in_the_folder(profiled, tmp_path):
    page = (profiled / "report.html").read_bytes()
    assert page.startswith(b"<!DOCTYPE html>")
    assert not leftovers(profiled)
    # self-contained: nothing to fetch (the SVG namespace is a name, and
    # the only one allowed)
    bare = page.replace(b"'http://www.w3.org/2000/svg'", b"")
    assert page.count(b"http://www.w3.org/2000/svg") == 1
    for word in (b"http://", b"https://", b"<link", b" src=", b"@import",
                 b"url("):
        assert word not in bare, word
    assert b"default-src 'none'" in page
    # the data block parses as JSON, as the page will parse it
    m = re.search(rb'<script type="application/json" id="loong-data">(.*?)'
                  rb'</script>', page, re.S)
    data = json.loads(m.group(1).decode())
    assert data["meta"]["program"] == "report_target"
    assert set(data["sections"]) == {"flame", "functions", "slow"}
    assert data["sections"]["functions"]["columns"][:2] == ["calls",
                                                            "total_us"]
    # replaced atomically; -o elsewhere; -o - to stdout; an output root
    # holding one process folder names it
    os.chmod(profiled / "report.html", 0o600)
    r = report(profiled.parent, "-o", tmp_path / "r.html")
    assert r.returncode == 0 and (tmp_path / "r.html").is_file(), r.stderr
    r = report("-o", "-", profiled)
    assert r.returncode == 0 and r.stdout.startswith(b"<!DOCTYPE html>")
    assert r.stdout.endswith(b"</html>\n") and not r.stderr
    r = report(profiled)
    assert r.returncode == 0
    umask = os.umask(0o22)
    os.umask(umask)
    assert (profiled / "report.html").stat().st_mode & 0o777 == \
        0o666 & ~umask


BAD_FILES = [
    ({"meta.json": '{"pid": 1,\n "argv": [\n}'},
     1, "loong: report: {d}/meta.json:3: expected a value"),
    ({"meta.json": "[1]"},
     1, "loong: report: {d}/meta.json:1: expected a JSON object"),
    ({"meta.json": '{"a": "cut'},
     1, "loong: report: {d}/meta.json:1: unexpected end of input"),
    ({},
     1, "loong: report: nothing to report in '{d}': no function.collapsed, "
        "function.tsv, function.slow.jsonl, exceptions.jsonl, "
        "mem.alloc.collapsed, mem.live.collapsed or loong_mem points in "
        "metrics.lp"),
    ({"metrics.lp": "loong_runtime,pid=42 records=1i,dropped=0i 1\n"
                    "loong_mem_alloc,pid=42 alloc_bytes=1i 2\n"},
     1, "loong: report: nothing to report in '{d}': no function.collapsed, "),
    ({"function.collapsed": "main;f 3\nmain;g\n"},
     1, "loong: report: {d}/function.collapsed:2: expected 'FRAME;FRAME;... "
        "VALUE'"),
    ({"function.collapsed": "main;f 3\nmain;;g 1\n"},
     1, "loong: report: {d}/function.collapsed:2: empty frame name"),
    ({"function.collapsed": "main -3\n"},
     1, "loong: report: {d}/function.collapsed:1: bad value '-3'"),
    ({"function.tsv": "calls\tfunction\tline\n1\tf\t3\n2\tg\n"},
     1, "loong: report: {d}/function.tsv:3: 2 fields, the header has 3"),
    ({"function.tsv": ""},
     1, "loong: report: {d}/function.tsv:1: no header line"),
    ({"function.slow.jsonl": '{"a": 1}\n"text"\n'},
     1, "loong: report: {d}/function.slow.jsonl:2: expected a JSON object"),
    ({"function.slow.jsonl": '{"a": 1}\n\n{"b": [1, 2}\n'},
     1, "loong: report: {d}/function.slow.jsonl:3: expected ',' or ']'"),
]


@pytest.mark.parametrize("files,status,start", BAD_FILES,
                         ids=[str(i) for i in range(len(BAD_FILES))])
def test_report_refuses_bad_files(tmp_path, files, status, start):
    d = fake_folder(tmp_path / "p-1", files)
    r = report(d)
    assert r.returncode == status
    assert one_error_line(r).startswith(start.format(d=d))
    assert not (d / "report.html").exists() and not leftovers(d)


def test_report_refuses_bad_folders_and_outputs(tmp_path):
    good = fake_folder(tmp_path / "root" / "good-1",
                       {"function.collapsed": "main;f 3\n"})
    cases = [
        ([], 2, "loong: report: missing DIR (usage: loong report DIR "
                "[-o FILE])"),
        ([tmp_path / "nope"], 2, "loong: report: cannot open folder '%s': "
                                 "No such file or directory"
         % (tmp_path / "nope")),
        ([good / "function.collapsed"], 2, "loong: report: '%s' is not a "
                                          "folder"
         % (good / "function.collapsed")),
        ([tmp_path / "root" / "good-1" / ".."], None, None),  # one: fine
        ([tmp_path], 2, "loong: report: '%s' is not a loong output folder: "
                        "no meta.json in it or in its folders" % tmp_path),
        ([good, "--frob"], 2, "loong: report: unknown option '--frob'"),
        ([good, good], 2, "loong: report: unexpected argument"),
        ([good, "-o"], 2, "loong: report: option '-o' needs a value"),
        ([good, "-o", tmp_path / "none" / "r.html"], 1,
         "loong: report: cannot write '%s': No such file or directory"
         % (tmp_path / "none" / "r.html")),
        ([good, "-o", tmp_path], 1,
         "loong: report: cannot write '%s': Is a directory" % tmp_path),
        ([good, "-o", good / "function.collapsed" / "r.html"], 1,
         "loong: report: cannot write '%s': Not a directory"
         % (good / "function.collapsed" / "r.html")),
    ]
    for args, status, start in cases:
        r = report(*args)
        if status is None:
            assert r.returncode == 0, r.stderr
            continue
        assert r.returncode == status, (args, r.stderr)
        assert one_error_line(r).startswith(start), args
    # an unreadable profile file (a folder in its place, even for root)
    (good / "function.tsv").mkdir()
    r = report(good)
    assert r.returncode == 1
    assert one_error_line(r) == "loong: report: cannot read '%s': Is a " \
        "directory" % (good / "function.tsv")
    (good / "function.tsv").rmdir()
    os.mkfifo(good / "function.tsv")  # never waited on
    r = report(good)
    assert r.returncode == 1
    assert one_error_line(r) == "loong: report: cannot read '%s': not a " \
        "regular file" % (good / "function.tsv")
    (good / "function.tsv").unlink()
    # two process folders: name them
    fake_folder(tmp_path / "root" / "other-2", {"function.tsv": "a\n1\n"})
    r = report(tmp_path / "root")
    assert r.returncode == 2
    assert one_error_line(r) == (
        "loong: report: '{0}' holds 2 process folders, name one: "
        "{0}/good-1, {0}/other-2".format(tmp_path / "root"))
    assert not leftovers(good)


def test_report_help():
    r = run([LOONG, "help", "report"])
    assert r.returncode == 0 and r.stdout.startswith(b"Usage: loong report")
    r = run([LOONG, "--help"])
    assert b"loong report DIR [-o FILE]" in r.stdout


# ---- in Chromium ---------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not os.access(cdp.CHROMIUM, os.X_OK):
        pytest.skip("%s not found: the report is not checked in a browser"
                    % cdp.CHROMIUM)
    chromium = cdp.Chromium(tmp_path_factory.mktemp("chromium"))
    page = None
    try:
        page = chromium.page()
        page.call("Emulation.setDeviceMetricsOverride", width=1280,
                  height=900, deviceScaleFactor=1, mobile=False)
        yield page
    finally:
        if page:
            page.close()
        chromium.close()


def open_report(page, path):
    url = pathlib.Path(path).resolve().as_uri()
    page.open(url)
    assert page.wait_for("document.readyState === 'complete'")
    return url


def assert_clean(page, url):
    """No console error, no exception, no dialog; nothing asked of the
    network but the page itself."""
    page.evaluate("1")  # let pending events arrive
    assert page.errors() == []
    assert page.requests() == [url]


FRAMES_JS = """Array.from(document.querySelectorAll('#flame .fr')).map(e => {
  const r = e.getBoundingClientRect();
  return {i: +e.dataset.i, name: e.dataset.name, depth: +e.dataset.depth,
          x: r.left, w: r.width, cls: e.className, text: e.textContent};
})"""
FLAME_WIDTH_JS = "document.getElementById('flame-graph').clientWidth"
ROWS_JS = """Array.from(document.querySelectorAll('#functions-table tbody tr'))
  .map(tr => Array.from(tr.cells).map(td => td.textContent))"""


def frames_named(frames, short):
    return [f for f in frames if f["name"].split(" (")[0] == short]


def test_report_in_chromium(profiled, browser):
    page = browser
    url = open_report(page, profiled / "report.html")
    assert_clean(page, url)
    assert page.evaluate("document.title") == \
        "loong report: " + profiled.name
    head = page.evaluate("document.getElementById('meta').innerText")
    assert "report_target" in head and "Duration" in head
    assert page.evaluate("[...document.querySelectorAll('main > section')]"
                         ".map(s => s.id)") == ["flame", "functions", "slow"]

    # the flame graph: the widest frame under the root and the module is
    # hot(), about three times cold()
    width = page.evaluate(FLAME_WIDTH_JS)
    frames = page.evaluate(FRAMES_JS)
    root = [f for f in frames if f["depth"] == 0]
    assert len(root) == 1 and root[0]["name"] == "all"
    assert abs(root[0]["w"] - width) <= 1
    below = [f for f in frames if f["depth"] >= 1
             and not f["name"].startswith("<module>")]
    widest = max(below, key=lambda f: f["w"])
    assert widest["name"].split(" (")[0] == "hot", widest
    hot, cold = frames_named(frames, "hot")[0], frames_named(frames, "cold")[0]
    assert 1.8 < hot["w"] / cold["w"] < 5.0, (hot, cold)
    assert hot["text"] == "hot"

    # a real click on cold() zooms to it: full width, its ancestors above
    page.click_element(
        "document.querySelector('#flame .fr[data-i=\"%d\"]')" % cold["i"])
    assert page.wait_for(
        "document.querySelector('#flame .fr[data-i=\"%d\"]')"
        ".getBoundingClientRect().width >= %f" % (cold["i"], 0.98 * width))
    after = page.evaluate(FRAMES_JS)
    assert not frames_named(after, "hot")
    assert all("anc" in f["cls"] for f in after if f["depth"] < cold["depth"])
    # reset: back to the root
    page.click_element("document.getElementById('flame-reset')")
    assert page.wait_for("document.querySelectorAll('#flame .fr.anc')"
                         ".length === 0")
    again = page.evaluate(FRAMES_JS)
    assert abs(frames_named(again, "hot")[0]["w"] - hot["w"]) <= 1

    # search: typed into the box, hot() highlighted, its share shown
    page.click_element("document.getElementById('flame-search')")
    page.call("Input.insertText", text="hot (")
    text = page.wait_for("document.getElementById('flame-matched')"
                         ".textContent")
    m = re.match(r"Matched: ([0-9.]+)% of all", text)
    assert m, text
    frames = page.evaluate(FRAMES_JS)
    marked = [f for f in frames if "match" in f["cls"].split()]
    assert [f["name"].split(" (")[0] for f in marked] == ["hot"]
    assert abs(float(m.group(1)) - 100 * hot["w"] / width) < 1.0

    # the table: a click on a header sorts by it
    rows = page.evaluate(ROWS_JS)
    cols = page.evaluate("[...document.querySelectorAll('#functions-table "
                         "th')].map(t => t.firstChild.textContent)")
    ci, fi = cols.index("calls"), cols.index("function")
    page.click_element("document.querySelector('#functions-table "
                       "th[data-col=\"%d\"]')" % ci)
    by_calls = page.evaluate(ROWS_JS)
    calls = [int(r[ci]) for r in by_calls]
    assert calls == sorted(calls, reverse=True) and calls != \
        [int(r[ci]) for r in rows]
    page.click_element("document.querySelector('#functions-table "
                       "th[data-col=\"%d\"]')" % fi)
    names = [r[fi] for r in page.evaluate(ROWS_JS)]
    assert names == sorted(names) and len(names) == len(rows)
    page.click_element("document.querySelector('#functions-table "
                       "th[data-col=\"%d\"]')" % fi)
    assert [r[fi] for r in page.evaluate(ROWS_JS)] == \
        sorted(names, reverse=True)

    # slow calls: slow() opened by a click, nap() twice inside, in order
    idx = page.evaluate("[...document.querySelectorAll('details.slow "
                        "summary .fn')].findIndex(e => "
                        "e.textContent.startsWith('slow  __main__'))")
    assert idx >= 0
    page.click_element("document.querySelectorAll('details.slow summary')"
                       "[%d]" % idx)
    calls = page.wait_for("(() => { const d = document.querySelectorAll("
                          "'details.slow')[%d]; return d.open && [...d."
                          "querySelectorAll('.call .name')].map(e => "
                          "e.textContent); })()" % idx)
    assert [c.split()[0] for c in calls] == ["slow", "nap", "nap"], calls
    assert_clean(page, url)


HOSTILE_JS = """(() => {
  const frames = [...document.querySelectorAll('#flame .fr')]
    .map(e => [e.dataset.name, e.textContent]);
  const cells = [...document.querySelectorAll('#functions-table td')]
    .map(e => e.textContent);
  return {frames, cells, scripts: document.scripts.length,
          markup: document.querySelectorAll('main img, main b, main style, '
                                            + 'main script').length,
          title: document.title};
})()"""


def test_report_hostile_names_in_chromium(tmp_path, browser):
    d = profile(tmp_path, "report_hostile.py", "function")
    r = report(d)
    assert r.returncode == 0, r.stderr
    page = browser
    url = open_report(page, d / "report.html")
    assert_clean(page, url)
    got = page.evaluate(HOSTILE_JS)
    assert got["scripts"] == 2 and got["markup"] == 0
    assert got["title"] == "loong report: " + d.name
    # every name exactly as the profile files hold it, as text
    # (split at \n only: splitlines() also splits at U+2028)
    tsv = [l.split("\t") for l in (d / "function.tsv").read_text(
        errors="replace").split("\n")[1:] if l]
    names = [row[4] for row in tsv if row[5] == "__main__"]
    assert "</script><script>alert(1)</script>" in names
    assert any("\U0001f40d" in n for n in names)
    for n in names:
        assert n in got["cells"], n
    # the frames called by the module with 1% or more of the time
    stacks = (d / "function.collapsed").read_text(errors="replace")
    weights = {}
    for line in filter(None, stacks.split("\n")):
        stack, value = line.rsplit(" ", 1)
        weights[tuple(stack.split(";"))] = int(value)
    total = sum(weights.values())
    hostile = {s[1] for s, v in weights.items() if len(s) == 2 and
               s[0].startswith("<module>") and v >= 0.01 * total}
    shown = {name for name, _ in got["frames"]}
    assert len(hostile) >= 6 and hostile <= shown, hostile - shown
    texts = {text for _, text in got["frames"]}
    assert "</script><script>alert(1)</script>" in texts


def test_report_raw_bytes_in_chromium(tmp_path, browser):
    """Invalid UTF-8, NUL bytes and markup straight in the files."""
    d = fake_folder(tmp_path / "bytes-7", {
        "function.collapsed": b"main;bad \xff\xfe name;</script><b>x 40\n"
                              b"main;nul \x00 byte 20\n"
                              b"main;\xe2\x80\xa8 sep \xc3\xb1 40\n",
        "function.tsv": b"calls\tfunction\n3\t\xc0\xaf</script>\n",
        "function.slow.jsonl": b'{"wall_ns": 1, "duration_us": 10, '
                               b'"function": "\\u003c/script\\u003e\xff", '
                               b'"calls": [{"depth": 1, "function": "<b>"}]}'
                               b'\n',
    })
    r = report(d)
    assert r.returncode == 0, r.stderr
    page = browser
    url = open_report(page, d / "report.html")
    assert_clean(page, url)
    got = page.evaluate(HOSTILE_JS)
    assert got["scripts"] == 2 and got["markup"] == 0
    names = {name for name, _ in got["frames"]}
    assert "bad \ufffd\ufffd name" in names and "</script><b>x" in names
    assert "nul \ufffd byte" in names and "\u2028 sep \u00f1" in names
    assert "\ufffd\ufffd</script>" in got["cells"]
    page.click_element("document.querySelector('details.slow summary')")
    assert page.wait_for("[...document.querySelectorAll('.call .name')]"
                         ".map(e => e.textContent).join('|')") == \
        "</script>\ufffd|<b>"
    assert_clean(page, url)


def test_report_large_profile_in_chromium(tmp_path, browser):
    """20000 distinct stacks: written, loaded and zoomed without a stall;
    narrow frames are not drawn."""
    rng = random.Random(7)
    lines = set()
    while len(lines) < 20000:
        # a call tree: a few callees per function, paths of 2 to 30 frames
        depth = rng.randint(2, 30)
        stack = ["main"] + ["fn_%d_%d (m%d.py:%d)" % (
            level, rng.randrange(5), level % 7, 10 * level)
            for level in range(depth)]
        lines.add(";".join(stack))
    text = "".join("%s %d\n" % (s, rng.randint(1, 5000))
                   for s in sorted(lines))
    d = fake_folder(tmp_path / "big-9", {"function.collapsed": text})
    t0 = time.monotonic()
    r = report(d)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 10
    page = browser
    t0 = time.monotonic()
    url = open_report(page, d / "report.html")
    assert time.monotonic() - t0 < 15
    assert_clean(page, url)
    n = page.evaluate("document.querySelectorAll('#flame .fr').length")
    assert 10 < n <= 6100, n
    frames = page.evaluate(FRAMES_JS)
    width = page.evaluate(FLAME_WIDTH_JS)
    assert all(f["w"] >= 0.001 * width - 0.5 for f in frames)
    # zoom into a mid-size frame: it fills the width, its narrow children
    # show up
    f = max((f for f in frames if f["depth"] == 2), key=lambda f: f["w"])
    t0 = time.monotonic()
    page.click_element(
        "document.querySelector('#flame .fr[data-i=\"%d\"]')" % f["i"])
    assert page.wait_for(
        "document.querySelector('#flame .fr[data-i=\"%d\"]')"
        ".getBoundingClientRect().width >= %f" % (f["i"], 0.98 * width))
    assert time.monotonic() - t0 < 5
    assert_clean(page, url)


def test_report_odd_json_in_chromium(tmp_path, browser):
    """Valid JSON of unexpected shapes in meta.json and the slow calls:
    drawn without an error (missing or odd fields shown as '?' or left
    out)."""
    d = fake_folder(tmp_path / "odd-3", {
        "meta.json": json.dumps({
            "argv": "not a list", "python": 3, "pid": {"x": 1},
            "toolkits": [None, 5, {"name": "function", "options": "x"}],
            "start": 5, "end": [], "records": "many", "dropped": None,
            "constructor": 1, "__proto__": {"program": "x"}}),
        "function.tsv": "constructor\t__proto__\ttoString\n1\t2\tx\n",
        "function.slow.jsonl": "\n".join(json.dumps(o) for o in [
            {},
            {"wall_ns": "x", "duration_us": {}, "calls": "no"},
            {"wall_ns": 1e300, "duration_us": -5, "thread": None,
             "calls": [1, None, "x", {"depth": "deep"},
                       {"depth": 1e9, "start_us": 1e308,
                        "duration_us": -1, "function": ["f"]}]},
            {"function": "</script>", "truncated": True,
             "calls": [{"depth": 2, "start_us": 3, "duration_us": 4,
                        "module": None, "file": 7, "line": "x"}]},
        ]) + "\n",
    })
    r = report(d)
    assert r.returncode == 0, r.stderr
    page = browser
    url = open_report(page, d / "report.html")
    page.evaluate("document.querySelectorAll('details.slow')"
                  ".forEach(d => d.open = true)")
    assert page.wait_for("document.querySelectorAll('.calls').length") == 4
    for k in range(3):  # sort the table by each column, both ways
        for _ in range(2):
            page.click_element("document.querySelector('#functions-table "
                               "th[data-col=\"%d\"]')" % k)
    page.evaluate("(() => { const s = document.getElementById('slow-order');"
                  " s.value = 'slowest'; s.dispatchEvent(new Event("
                  "'change')); })()")
    assert page.evaluate("document.querySelectorAll('details.slow')"
                         ".length") == 4
    assert page.evaluate("document.querySelectorAll('.error').length") == 0
    assert_clean(page, url)
