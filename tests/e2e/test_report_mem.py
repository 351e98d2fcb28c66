"""loong report: the memory part of the page, in a real headless Chromium
(tests/e2e/cdp.py): the timeline of the loong_mem points of metrics.lp
(one drawn point per point in the file, or the documented merged number,
values read back from the hover tooltip), the flame graphs of allocated
and live bytes (mem.alloc.collapsed, mem.live.collapsed) and the leak
candidates, from a program that leaks in a known function; and metrics.lp
files that are malformed, cut short, of another process or very long.

The Chromium tests skip when /usr/bin/chromium is absent."""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

import cdp
from conftest import LOONG, PROGRAMS, SANITIZE, loong_cmd, only_proc_dir, \
    points_of, run
from test_report import assert_clean, fake_folder, newest_python, \
    open_report, report, FRAMES_JS, FLAME_WIDTH_JS

MAX_POINTS = 2000  # RM_MAX_POINTS in src/cli/report.h, docs/cli.md


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


def page_data(path):
    page = pathlib.Path(path).read_bytes()
    m = re.search(rb'<script type="application/json" id="loong-data">(.*?)'
                  rb'</script>', page, re.S)
    return json.loads(m.group(1).decode())


def collapsed(path):
    out = {}
    for line in pathlib.Path(path).read_text().splitlines():
        stack, _, v = line.rpartition(" ")
        out[stack] = out.get(stack, 0) + int(v)
    return out


def short(name):
    return name.split(" (")[0]


def exact(n):
    """How the page writes a byte count exactly: '(21,701,170 B)'."""
    return "(%s B)" % format(int(round(n)), ",")


# ---- reading the chart back ---------------------------------------------------

POLY_JS = """[...document.querySelectorAll('#%s polyline')].map(p =>
  [p.dataset.field, p.getAttribute('points').trim().split(/\\s+/)
    .map(s => s.split(',').map(Number))])"""


def runs_of(page, chart):
    """{field: [[[x, y]...] per run]} of a chart's lines."""
    out = {}
    for field, pts in page.evaluate(POLY_JS % chart):
        out.setdefault(field, []).append(pts)
    return out


def polylines(page, chart):
    """{field: [[x, y]...]} of a chart, its runs joined."""
    return {f: [xy for run in r for xy in run]
            for f, r in runs_of(page, chart).items()}


def hover_point(page, chart, field, index):
    """Move the mouse onto point index of field's line; the tooltip rows
    {field: text} and its first line."""
    xy = page.evaluate("""(() => {
      const ps = [...document.querySelectorAll('#%s polyline[data-field="%s"]')];
      const pts = ps.flatMap(p => [...p.points]);
      const q = pts[%d];
      const svg = ps[0].ownerSVGElement;
      svg.scrollIntoView({block: 'center'});
      const m = svg.getScreenCTM();
      return {x: m.a * q.x + m.c * q.y + m.e, y: m.b * q.x + m.d * q.y + m.f};
    })()""" % (chart, field, index))
    # away first (the tooltip goes), then onto the point
    page.call("Input.dispatchMouseEvent", type="mouseMoved", x=1, y=1)
    assert page.wait_for("document.getElementById('tip').hidden")
    page.call("Input.dispatchMouseEvent", type="mouseMoved", x=xy["x"],
              y=xy["y"])
    got = page.wait_for("""(() => {
      const t = document.getElementById('tip');
      if (t.hidden) return null;
      const rows = {};
      for (const r of t.querySelectorAll('.tip-row')) rows[r.dataset.field] = r.textContent;
      return {rows, head: t.querySelector('.tip-name').textContent,
              text: t.textContent,
              hover: document.getElementById('%s').dataset.hover};
    })()""" % chart)
    assert got, "no tooltip"
    return got


def legend_click(page, chart, field):
    page.click_element("document.querySelector('#%s .legend "
                       "button[data-field=\"%s\"]')" % (chart, field))


# ---- a program that leaks ------------------------------------------------------

@pytest.fixture(scope="module")
def leaked(tmp_path_factory):
    """mem_leak.py (leak() keeps 20 MB) under -t mem:alloc=yes, a point
    every 20 ms, and its report."""
    out = tmp_path_factory.mktemp("leak") / "out"
    r = run(loong_cmd(out, "mem:alloc=yes,alloc_mean=64KiB",
                      interval="20ms") +
            [newest_python(), PROGRAMS / "mem_leak.py"])
    assert r.returncode == 0 and r.stdout == b"kept 20000000\n", r.stderr
    d = only_proc_dir(out)
    r = report(d)
    assert r.returncode == 0, r.stderr
    return d


def test_leak_report_data(leaked):
    data = page_data(leaked / "report.html")
    assert set(data["sections"]) == {"memory", "mem_alloc", "mem_live"}
    mem = data["sections"]["memory"]
    pts = points_of(leaked / "metrics.lp", "loong_mem")
    assert len(pts) >= 4, pts
    assert mem["points"] == len(pts) == len(mem["t"])
    assert mem["every"] == 1 and mem["skipped"] == 0
    assert mem["other_pid"] == 0 and mem["pid"] == str(data["meta"]["pid"])
    for key in ("rss_bytes", "vms_bytes", "allocated_blocks", "gc_pauses",
                "sampled_live_bytes"):
        assert mem["fields"][key] == [f.get(key) for _, _, f, _ in pts], key
    ts = [t for _, _, _, t in pts]
    assert mem["first_ns"] == str(ts[0])
    assert [round(t, 3) for t in mem["t"]] == \
        [round((t - ts[0]) / 1e6, 3) for t in ts]


def test_leak_report_in_chromium(leaked, browser):
    page = browser
    url = open_report(page, leaked / "report.html")
    assert_clean(page, url)
    assert page.evaluate("[...document.querySelectorAll('main > section')]"
                         ".map(s => s.id)") == ["flame", "memory"]
    assert page.evaluate("[...document.querySelectorAll('#toc a')]"
                         ".map(a => a.textContent)") == \
        ["Flame graph", "Memory"]
    pts = points_of(leaked / "metrics.lp", "loong_mem")
    n = len(pts)
    rss = [f["rss_bytes"] for _, _, f, _ in pts]

    # the timeline: one point per loong_mem line, RSS by default
    assert page.evaluate("document.querySelector('#mem-bytes svg')"
                         ".dataset.points") == str(n)
    lines = polylines(page, "mem-bytes")
    assert "rss_bytes" in lines and "vms_bytes" not in lines
    xy = lines["rss_bytes"]
    assert len(xy) == n
    xs = [x for x, _ in xy]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    # higher on the page for more bytes, in proportion (to the 0.1 px the
    # points are written with)
    hi, lo = rss.index(max(rss)), rss.index(min(rss))
    assert xy[hi][1] < xy[lo][1]
    per_byte = (xy[lo][1] - xy[hi][1]) / (rss[hi] - rss[lo])
    for v, (_, y) in zip(rss, xy):
        assert abs(y - (xy[hi][1] + (rss[hi] - v) * per_byte)) <= 0.15, \
            (rss, xy)
    units = page.evaluate("[...document.querySelectorAll('#mem-bytes "
                          ".axis .unit')].map(e => e.textContent)")
    assert units == ["MiB", "time since start (s)"], units
    # the legend gives the last value
    title = page.evaluate("document.querySelector('#mem-bytes .legend "
                          "button[data-field=\"rss_bytes\"]').title")
    assert title.startswith("rss_bytes: last ") and \
        title.endswith(" MiB " + exact(rss[-1])), title

    # hover over the last point: the file's last values, exactly
    got = hover_point(page, "mem-bytes", "rss_bytes", n - 1)
    assert got["hover"] == str(n - 1)
    assert exact(rss[-1]) in got["rows"]["rss_bytes"], got
    last = pts[-1][2]
    for key in ("pss_bytes", "uss_bytes", "sampled_live_bytes"):
        if key in last:
            assert exact(last[key]) in got["rows"][key], (key, got)
    # and over the first one
    got = hover_point(page, "mem-bytes", "rss_bytes", 0)
    assert got["hover"] == "0" and exact(rss[0]) in got["rows"]["rss_bytes"]
    assert got["head"].startswith("+")

    # a click on a name shows or hides its line
    legend_click(page, "mem-bytes", "vms_bytes")
    lines = polylines(page, "mem-bytes")
    assert len(lines["vms_bytes"]) == n
    legend_click(page, "mem-bytes", "rss_bytes")
    lines = polylines(page, "mem-bytes")
    assert "rss_bytes" not in lines and "vms_bytes" in lines
    assert page.evaluate("document.querySelector('#mem-bytes .legend "
                         "button[data-field=\"rss_bytes\"]')"
                         ".getAttribute('aria-pressed')") == "false"
    legend_click(page, "mem-bytes", "rss_bytes")
    assert len(polylines(page, "mem-bytes")["rss_bytes"]) == n
    # the counts chart: allocated blocks
    blocks = [f["allocated_blocks"] for _, _, f, _ in pts]
    got = hover_point(page, "mem-counts", "allocated_blocks", n - 1)
    assert format(blocks[-1], ",") in got["rows"]["allocated_blocks"], got

    # the flame graph: live bytes first, leak() the widest frame below
    # <module> and main()
    assert page.evaluate("[...document.querySelectorAll('#flame-kind "
                         "option')].map(o => o.textContent)") == \
        ["allocated bytes", "live bytes"]
    assert page.evaluate("document.getElementById('flame-kind').value") == \
        "mem_live"
    width = page.evaluate(FLAME_WIDTH_JS)
    frames = page.evaluate(FRAMES_JS)
    below = [f for f in frames if f["depth"] >= 1 and
             short(f["name"]) not in ("<module>", "main")]
    widest = max(below, key=lambda f: f["w"])
    assert short(widest["name"]) == "leak", widest
    live = collapsed(leaked / "mem.live.collapsed")
    total_live = sum(live.values())
    leak_live = sum(v for s, v in live.items()
                    if any(short(fr) == "leak" for fr in s.split(";")))
    assert leak_live >= 0.8 * total_live
    assert abs(widest["w"] / width - leak_live / total_live) < 0.01
    # its tooltip: the bytes, exactly
    page.evaluate("document.querySelector('#flame .fr[data-i=\"%d\"]')"
                  ".scrollIntoView({block: 'center'})" % widest["i"])
    r = page.evaluate("(() => { const r = document.querySelector('#flame "
                      ".fr[data-i=\"%d\"]').getBoundingClientRect(); "
                      "return [r.left + r.width / 2, r.top + r.height / 2]; "
                      "})()" % widest["i"])
    page.call("Input.dispatchMouseEvent", type="mouseMoved", x=r[0], y=r[1])
    tip = page.wait_for("!document.getElementById('tip').hidden && "
                        "document.getElementById('tip').textContent")
    assert widest["name"] in tip and exact(leak_live) in tip, tip

    # allocated bytes: churn() allocated the most
    page.evaluate("(() => { const s = document.getElementById('flame-kind');"
                  " s.value = 'mem_alloc'; s.dispatchEvent(new Event("
                  "'change')); })()")
    assert page.evaluate("document.getElementById('flame')"
                         ".dataset.kind") == "mem_alloc"
    alloc = collapsed(leaked / "mem.alloc.collapsed")
    by_fn = {}
    for s, v in alloc.items():
        fr = s.split(";")
        if len(fr) >= 3:  # <module>;main;FUNCTION...
            by_fn[short(fr[2])] = by_fn.get(short(fr[2]), 0) + v
    frames = page.evaluate(FRAMES_JS)
    depth2 = [f for f in frames if f["depth"] == 3]
    assert short(max(depth2, key=lambda f: f["w"])["name"]) == \
        max(by_fn, key=by_fn.get) == "churn", by_fn
    # a click zooms, as in the time flame graph
    churn = max(depth2, key=lambda f: f["w"])
    page.click_element("document.querySelector('#flame .fr[data-i=\"%d\"]')"
                       % churn["i"])
    assert page.wait_for("document.querySelector('#flame .fr[data-i=\"%d\"]')"
                         ".getBoundingClientRect().width >= %f"
                         % (churn["i"], 0.98 * width))

    # leak candidates: leak() first; a click finds it in the live bytes
    rows = page.evaluate("[...document.querySelectorAll('#leaks-table tbody "
                         "tr')].map(tr => [tr.dataset.name, +tr.dataset.live,"
                         " [...tr.cells].map(c => c.textContent)])")
    assert short(rows[0][0]) == "leak", rows
    leak_self = sum(v for s, v in live.items()
                    if short(s.split(";")[-1]) == "leak")
    assert rows[0][1] == leak_self
    assert rows[0][2][4] == page.evaluate(
        "(%r / 1048576).toFixed(1) + ' MiB'" % sum(
            v for s, v in alloc.items() if short(s.split(";")[-1]) == "leak"))
    page.click_element("document.querySelector('#leaks-table tbody tr')")
    assert page.wait_for("document.getElementById('flame-kind').value === "
                         "'mem_live' && document.getElementById("
                         "'flame-matched').textContent")
    assert page.evaluate("document.getElementById('flame-search').value") == \
        rows[0][0]
    text = page.evaluate("document.getElementById('flame-matched')"
                         ".textContent")
    m = re.match(r"Matched: ([0-9.]+)% of all", text)
    assert m and abs(float(m.group(1)) - 100 * leak_self / total_live) < 0.1
    marked = [f for f in page.evaluate(FRAMES_JS) if "match" in f["cls"]]
    assert [short(f["name"]) for f in marked] == ["leak"]
    assert_clean(page, url)


# ---- metrics.lp files of every kind ------------------------------------------------

MEM_META = {
    "loong_version": "0.1.0", "pid": 42, "program": "fake",
    "argv": ["python3", "fake.py"], "python": {"version": "3.12.1"},
    "start": "2026-01-01T00:00:00.000000Z",
    "end": "2026-01-01T00:00:10.000000Z", "exit": "exit",
    "interval_ms": 1000, "sink": "dir",
    "toolkits": [{"name": "mem", "version": "0.1", "options": {}}]}

T0 = 1767225600 * 10**9  # 2026-01-01T00:00:00Z


def mem_line(i, fields, pid=42, tags="host=web\\ 1,program=a\\,b"):
    body = ",".join("%s=%s" % kv for kv in fields.items())
    return "loong_mem,%s,pid=%d %s %d\n" % (tags, pid, body,
                                            T0 + (i + 1) * 10**9)


def test_malformed_metrics_in_chromium(tmp_path, browser):
    good = []
    lines = ["# a comment\n", "this is not a point\n", "\n"]
    for i in range(5):
        f = {"rss_bytes": "%di" % ((30 + i * 3) << 20),
             "pss_bytes": "%di" % ((25 + i * 3) << 20),
             "allocated_blocks": "%di" % (40000 + 100 * i),
             "gc_pauses": "%di" % (i % 2),
             "gc_pause_us": "%di" % (300 * i * (i % 2)),
             "gc_pause_max_us": "%di" % (200 * i * (i % 2)),
             "label": '"a string, with = and \\" in it"', "ok": "true"}
        if i in (0, 1, 3):  # fields another version adds: gaps in them
            f["pymalloc_arenas"] = "%di" % (10 + i)
            f["domain_bytes_obj"] = "%di" % (1000000 * (i + 1))
        if i == 4:  # names that are not names in a page
            f["__proto__"] = "1i"
            f["constructor"] = "2i"
            f["</script><b>x\\ y\\,bytes"] = "3i"
        good.append(f)
        lines.append(mem_line(i, f))
        if i == 1:
            lines += [
                "loong_mem,pid=42 rss_bytes=abc %d\n" % T0,   # bad value
                "loong_mem,pid=42 rss_bytes=1i\n",            # no time
                "loong_function,function=f\\ g calls=3i %d\n" % T0,
                mem_line(9, {"rss_bytes": "1i"}, pid=43),     # another
                "loong_mem_alloc,function=leak alloc_bytes=5i %d\n" % T0,
            ]
    text = "".join(lines).encode() + b"\xff\xfe\x00 garbage\n" + \
        b"loong_mem,pid=42 rss_bytes=99"  # cut short: no '\n'
    d = fake_folder(tmp_path / "fake-42", {
        "meta.json": json.dumps(MEM_META), "metrics.lp": text})
    r = report(d)
    assert r.returncode == 0, r.stderr
    mem = page_data(d / "report.html")["sections"]["memory"]
    assert (mem["points"], mem["skipped"], mem["other_pid"]) == (5, 3, 1)
    assert mem["fields"]["pymalloc_arenas"] == [10, 11, None, 13, None]
    assert "label" not in mem["fields"] and "ok" not in mem["fields"]

    page = browser
    url = open_report(page, d / "report.html")
    assert_clean(page, url)
    assert page.evaluate("[...document.querySelectorAll('main > section')]"
                         ".map(s => s.id)") == ["memory"]
    notes = page.evaluate("document.getElementById('memory').innerText")
    assert "3 loong_mem lines of metrics.lp could not be read" in notes
    assert "also holds 1 loong_mem point of other processes" in notes
    assert "5 loong_mem points in metrics.lp (one every 1.00 s)" in notes
    lines = polylines(page, "mem-bytes")
    assert len(lines["rss_bytes"]) == 5
    got = hover_point(page, "mem-bytes", "rss_bytes", 4)
    assert exact(42 << 20) in got["rows"]["rss_bytes"], got
    assert exact(37 << 20) in got["rows"]["pss_bytes"], got
    assert got["head"].startswith("+5.000 s"), got  # since meta's start
    # gc pauses: marks where there were any, and in the tooltip
    assert page.evaluate("[...document.querySelectorAll('#mem-bytes "
                         ".gc-mark')].map(e => +e.dataset.i)") == [1, 3]
    got = hover_point(page, "mem-bytes", "rss_bytes", 3)
    assert "gc: 1 collection, 900 \u00b5s paused (longest 600 \u00b5s)" in \
        got["text"], got
    # unknown fields: offered in the legend, drawn on demand, with gaps
    legend_click(page, "mem-counts", "pymalloc_arenas")
    runs = runs_of(page, "mem-counts")
    assert [len(r) for r in runs["pymalloc_arenas"]] == [2, 1]
    assert page.evaluate("document.querySelectorAll('#mem-counts .series"
                         "[data-field=\"pymalloc_arenas\"] circle')"
                         ".length") == 1
    legend_click(page, "mem-bytes", "domain_bytes_obj")
    assert len(polylines(page, "mem-bytes")["domain_bytes_obj"]) == 3
    fields = page.evaluate("[...document.querySelectorAll('.legend button')]"
                           ".map(b => b.dataset.field)")
    assert {"__proto__", "constructor", "</script><b>x y,bytes"} <= \
        set(fields), fields
    assert page.evaluate("document.querySelectorAll('main b, main script')"
                         ".length") == 0
    legend_click(page, "mem-counts", "__proto__")
    assert len(polylines(page, "mem-counts")["__proto__"]) == 1
    got = hover_point(page, "mem-counts", "pymalloc_arenas", 2)
    assert got["hover"] == "3"
    assert got["rows"]["pymalloc_arenas"] == "pymalloc_arenas: 13"
    assert got["rows"]["allocated_blocks"] == "allocated blocks: 40,300"
    assert_clean(page, url)


def test_other_process_metrics_in_chromium(tmp_path, browser):
    """A metrics.lp with none of this process's points (copied from
    another): drawn, and said so."""
    text = "".join(mem_line(i, {"rss_bytes": "%di" % (i << 20)}, pid=7)
                   for i in range(3))
    d = fake_folder(tmp_path / "fake-42", {
        "meta.json": json.dumps(MEM_META), "metrics.lp": text})
    assert report(d).returncode == 0
    page = browser
    url = open_report(page, d / "report.html")
    assert_clean(page, url)
    assert "These points are of process 7, not of this folder's process " \
        "(42)." in page.evaluate("document.getElementById('memory')"
                                 ".innerText")
    assert len(polylines(page, "mem-bytes")["rss_bytes"]) == 3


def test_merged_points_in_chromium(tmp_path, browser):
    """5000 points: drawn as 1250 (each the largest of 4), a spike kept."""
    n = 5000
    rows = []
    for i in range(n):
        rss = (100 << 20) + (i % 13) * 4096 if i != 3001 else 900 << 20
        rows.append(mem_line(i, {"rss_bytes": "%di" % rss,
                                 "gc_pauses": "%di" % (i == 77),
                                 "gc_pause_us": "%di" % (5000 * (i == 77))}))
    d = fake_folder(tmp_path / "fake-42", {
        "meta.json": json.dumps(MEM_META), "metrics.lp": "".join(rows)})
    assert report(d).returncode == 0
    mem = page_data(d / "report.html")["sections"]["memory"]
    every = 1
    while -(-n // every) > MAX_POINTS:
        every *= 2
    assert every == 4 and mem["every"] == 4 and len(mem["t"]) == 1250
    page = browser
    url = open_report(page, d / "report.html")
    assert_clean(page, url)
    assert "5,000 loong_mem points in metrics.lp (one every 1.00 s), drawn "\
        "as 1,250: each drawn point is the largest of 4 consecutive ones" in \
        page.evaluate("document.getElementById('mem-points').textContent")
    xy = polylines(page, "mem-bytes")["rss_bytes"]
    assert len(xy) == 1250
    top = min(range(len(xy)), key=lambda i: xy[i][1])
    assert top == 3001 // 4
    assert mem["fields"]["rss_bytes"][top] == 900 << 20
    # 1250 points in about 1100 pixels: the mouse finds the spike or a
    # neighbour, and shows what it found
    got = hover_point(page, "mem-bytes", "rss_bytes", top)
    at = int(got["hover"])
    assert abs(at - top) <= 1
    assert exact(mem["fields"]["rss_bytes"][at]) in got["rows"]["rss_bytes"]
    assert "the largest of 4 points" in got["text"]
    assert page.evaluate("[...document.querySelectorAll('#mem-bytes "
                         ".gc-mark')].map(e => +e.dataset.i)") == [77 // 4]
    assert page.evaluate("[...document.querySelectorAll('#mem-bytes "
                         ".axis .unit')].map(e => e.textContent)") == \
        ["MiB", "time since start (min)"]
    assert_clean(page, url)


def test_long_metrics_in_bounded_memory(tmp_path):
    """A 55 MB metrics.lp (other points too): read in bounded memory."""
    d = tmp_path / "big-42"
    d.mkdir()
    (d / "meta.json").write_text(json.dumps(MEM_META))
    other = "loong_function,function=f,module=m,file=/srv/app.py,line=1," \
        "host=h,program=p,pid=42 calls=1i,total_us=2.5,self_us=1.5," \
        "max_us=3.5 %d\n" % T0
    fields = {"rss_bytes": "%di" % (50 << 20), "vms_bytes": "1i",
              "allocated_blocks": "1i", "gc_pauses": "0i"}
    with open(d / "metrics.lp", "w") as f:
        for b in range(2000):
            f.write("".join(mem_line(100 * b + i, fields)
                            for i in range(100)) + other * 100)
    assert (d / "metrics.lp").stat().st_size > 50 << 20
    # its own interpreter, so the children's peak RSS is loong report's
    probe = ("import resource, subprocess, sys;"
             "r = subprocess.run(sys.argv[1:], capture_output=True);"
             "print(r.returncode, resource.getrusage("
             "resource.RUSAGE_CHILDREN).ru_maxrss)")
    r = run([sys.executable, "-c", probe, LOONG, "report", d], timeout=120)
    status, peak_kib = map(int, r.stdout.split())
    assert status == 0, r.stderr
    print("loong report: peak RSS %d KiB" % peak_kib)
    if not SANITIZE:  # less than the file: it was never held whole
        assert peak_kib < 40 * 1024, peak_kib
    mem = page_data(d / "report.html")["sections"]["memory"]
    assert mem["points"] == 200000 and mem["every"] == 128
    assert len(mem["t"]) == -(-200000 // 128) == 1563
    assert mem["skipped"] == 0


def test_sections_without_mem_data_in_chromium(tmp_path, browser):
    # a function profile with points of its own only: no memory section,
    # no choice of flame graphs
    d = fake_folder(tmp_path / "fn-42", {
        "function.collapsed": "main;f 30\nmain;g 10\n",
        "metrics.lp": "loong_function,pid=42 calls=1i %d\n" % T0})
    assert report(d).returncode == 0
    assert set(page_data(d / "report.html")["sections"]) == {"flame"}
    page = browser
    url = open_report(page, d / "report.html")
    assert_clean(page, url)
    assert page.evaluate("[...document.querySelectorAll('main > section')]"
                         ".map(s => s.id)") == ["flame", "slow"]
    assert page.evaluate("document.getElementById('flame-kind')") is None
    assert page.evaluate("document.querySelectorAll('svg').length") == 0

    # time and bytes: time first, the others a choice away
    meta = dict(MEM_META, toolkits=[{"name": "function"}, {"name": "mem"}])
    d = fake_folder(tmp_path / "both-42", {
        "meta.json": json.dumps(meta),
        "function.collapsed": "main;f 30\nmain;g 10\n",
        "mem.alloc.collapsed": "main;f 3000\nmain;g 1000000\n",
        "mem.live.collapsed": "main;g 2048\n"})
    assert report(d).returncode == 0
    url = open_report(page, d / "report.html")
    assert_clean(page, url)
    assert page.evaluate("[...document.querySelectorAll('main > section')]"
                         ".map(s => s.id)") == ["flame", "slow", "memory"]
    assert page.evaluate("[...document.querySelectorAll('#flame-kind "
                         "option')].map(o => o.value)") == \
        ["flame", "mem_alloc", "mem_live"]
    def widest():
        fr = [f for f in page.evaluate(FRAMES_JS) if f["depth"] == 2]
        return short(max(fr, key=lambda f: f["w"])["name"])
    assert widest() == "f"
    for kind, name in (("mem_alloc", "g"), ("mem_live", "g"),
                       ("flame", "f")):
        page.evaluate("(() => { const s = document.getElementById("
                      "'flame-kind'); s.value = '%s'; s.dispatchEvent("
                      "new Event('change')); })()" % kind)
        assert widest() == name, kind
    # a search survives the switch; its share is of the graph shown
    page.click_element("document.getElementById('flame-search')")
    page.call("Input.insertText", text="g")
    assert page.wait_for("document.getElementById('flame-matched')"
                         ".textContent") == "Matched: 25.0% of all"
    page.evaluate("(() => { const s = document.getElementById("
                  "'flame-kind'); s.value = 'mem_live'; s.dispatchEvent("
                  "new Event('change')); })()")
    assert page.evaluate("document.getElementById('flame-matched')"
                         ".textContent") == "Matched: 100.0% of all"
    # no timeline (no metrics.lp), the leak candidates still
    assert page.evaluate("document.querySelectorAll('#memory svg')"
                         ".length") == 0
    assert page.evaluate("[...document.querySelectorAll('#leaks-table "
                         "tbody tr')].map(tr => tr.dataset.name)") == ["g"]
    assert_clean(page, url)

    # the mem toolkit ran, its points went elsewhere: said so
    meta = dict(MEM_META, sink="udp://127.0.0.1:8089",
                toolkits=[{"name": "function"}, {"name": "mem"}])
    d = fake_folder(tmp_path / "udp-42", {
        "meta.json": json.dumps(meta),
        "function.collapsed": "main;f 30\n"})
    assert report(d).returncode == 0
    url = open_report(page, d / "report.html")
    assert_clean(page, url)
    assert "the points went to the sink udp://127.0.0.1:8089" in \
        page.evaluate("document.getElementById('memory').innerText")
