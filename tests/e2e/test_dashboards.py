"""The Grafana dashboards under dashboards/: their JSON has what Grafana
requires, and every query of every panel (and of every template variable)
returns data from a real InfluxDB fed by real programs profiled with
`loong run --sink agent` through loongd.

Panels of a toolkit that is not built here are skipped by name (their JSON
is still checked). Grafana itself is not installed: the substitutions it
makes are done here ($timeFilter, $__interval, $__interval_ms, and the
template variables, each set to every value its own query returns)."""
import json
import pathlib
import re
import subprocess
import sys
import time

import pytest

from conftest import LIBDIR, LOONG, ROOT, base_env, run
from test_agent_helpers import (Influx, Loongd, need_influxd, newest_python,
                                produced_by, wait_for)

DASH = ROOT / "dashboards"
FILES = sorted(DASH.glob("*.json"))
DS_UID = "loong-influxdb"
DB = "loong"

# measurement -> the toolkit that writes it (None: loong itself)
MEASUREMENTS = {"loong_function": "function",
                "loong_function_samples": "function",
                "loong_mem": "mem", "loong_exception": "exception",
                "loong_runtime": None, "loongd": None}


def load(path):
    return json.loads(path.read_text())


def targets():
    out = []
    for f in FILES:
        for p in load(f)["panels"]:
            for t in p.get("targets", []):
                out.append(pytest.param(f.name, p["id"], t["refId"],
                                        id="%s-%d-%s" % (f.stem, p["id"],
                                                         t["refId"])))
    return out


def measurements_of(query):
    return set(re.findall(r'FROM "([A-Za-z0-9_]+)"', query))


# ---- the JSON, without InfluxDB ------------------------------------------

def test_dashboards_are_generated_from_their_source():
    sys.path.insert(0, str(DASH))
    try:
        import make_dashboards
    finally:
        sys.path.pop(0)
    assert sorted(make_dashboards.DASHBOARDS) == [f.name for f in FILES]
    for name, make in make_dashboards.DASHBOARDS.items():
        assert (DASH / name).read_text() == make_dashboards.render(make), \
            "%s is stale: run python3 dashboards/make_dashboards.py" % name


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_dashboard_json_has_what_grafana_requires(path):
    d = load(path)
    for key, kind in (("uid", str), ("title", str), ("schemaVersion", int),
                      ("panels", list), ("templating", dict),
                      ("time", dict), ("tags", list), ("version", int)):
        assert isinstance(d.get(key), kind), (path.name, key)
    assert re.fullmatch(r"[a-z0-9-]{1,40}", d["uid"])
    assert d["schemaVersion"] >= 30
    names = [v["name"] for v in d["templating"]["list"]]
    assert names == ["host", "program", "pid"]
    for v in d["templating"]["list"]:
        assert v["type"] == "query" and v["datasource"]["uid"] == DS_UID
        assert v["query"].startswith("SHOW TAG VALUES")
        assert v["multi"] and v["includeAll"] and v["allValue"] == ".*"
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    cells = set()
    for p in d["panels"]:
        assert p["type"] in ("timeseries", "table", "stat")
        assert p["title"] and p["datasource"] == {"type": "influxdb",
                                                  "uid": DS_UID}
        g = p["gridPos"]
        assert all(isinstance(g[k], int) for k in "xywh")
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0
        for x in range(g["x"], g["x"] + g["w"]):      # no overlap
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, (path.name, p["title"])
                cells.add((x, y))
        assert p["targets"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs))
        for t in p["targets"]:
            q = t["query"]
            assert t["rawQuery"] is True and t["datasource"]["uid"] == DS_UID
            assert t["resultFormat"] in ("time_series", "table")
            assert "$timeFilter" in q, q
            if "GROUP BY time(" in q:
                assert "GROUP BY time($__interval)" in q, q
            ms = measurements_of(q)
            assert ms and ms <= set(MEASUREMENTS), q
            if ms != {"loongd"}:
                for var in ("$host", "$program", "$pid"):
                    assert "/^%s$/" % var in q, (var, q)


def test_provisioning_files():
    ds = (DASH / "provisioning" / "datasources" / "loong.yaml").read_text()
    prov = (DASH / "provisioning" / "dashboards" / "loong.yaml").read_text()
    try:
        import yaml
    except ImportError:
        assert "uid: " + DS_UID in ds and "type: influxdb" in ds
        assert "type: file" in prov
        return
    d = yaml.safe_load(ds)
    assert d["apiVersion"] == 1
    (src,) = d["datasources"]
    assert (src["uid"], src["type"], src["access"]) == \
        (DS_UID, "influxdb", "proxy")
    assert src["jsonData"]["dbName"] == DB and src["url"].startswith("http")
    p = yaml.safe_load(prov)
    assert p["apiVersion"] == 1
    (prv,) = p["providers"]
    assert prv["type"] == "file" and prv["options"]["path"]


# ---- every query against InfluxDB ----------------------------------------

PROGRAM = r'''
import sys, threading, time

def leaf(n):
    return sum(range(n))

def work(n):
    return leaf(n) + leaf(n // 2)

def fails(i):
    try:
        if i % 2:
            raise KeyError(i)
        raise ValueError(i)
    except (KeyError, ValueError):
        return 0

def idle():
    time.sleep(float(sys.argv[1]))

t = threading.Thread(target=idle)
t.start()
keep = []
end = time.time() + float(sys.argv[1])
while time.time() < end:
    for i in range(200):
        work(300)
        fails(i)
    keep.append(bytearray(10000))
t.join()
print("done")
'''


def built(toolkit):
    return (LIBDIR / "toolkits" / (toolkit + ".so")).exists()


@pytest.fixture(scope="module")
def fed(tmp_path_factory):
    """InfluxDB fed through loongd by a profiled program in trace mode
    and one in sample mode, with every toolkit the panels use that is
    built here."""
    need_influxd()
    py = newest_python()
    tmp = tmp_path_factory.mktemp("dash")
    influx = Influx(tmp / "influx").start()
    agent = None
    try:
        agent = Loongd(tmp / "agent", "--flush-interval", "100ms",
                       "--stats-interval", "200ms", "--retry-max", "500ms",
                       influx=influx, db=DB).start()
        prog = tmp / "dashprog.py"
        prog.write_text(PROGRAM)
        minor = int(subprocess.run([py, "-c", "import sys; print(sys."
                                    "version_info[1])"], capture_output=True,
                                   text=True).stdout)
        tks = ["function"]
        if built("mem"):
            tks.append("mem")
        if built("exception") and minor >= 12:
            tks.append("exception")
        cmds = []
        for i, first in enumerate(["function", "function:mode=sample,"
                                   "hz=200,idle=yes"]):
            cmd = [LOONG, "run", "-o", tmp / ("out%d" % i), "--interval",
                   "200ms", "--sink", "agent"]
            for t in [first] + tks[1:]:
                cmd += ["-t", t]
            cmds.append(cmd + ["--", py, prog, "2.5"])
        procs = [subprocess.Popen([str(c) for c in cmd], env=agent.env(),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for cmd in cmds]
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0 and out == b"done\n", err
        produced = sum(produced_by(tmp / ("out%d" % i)) for i in range(2))
        agent.wait_idle(15, received=produced)
        time.sleep(0.5)        # two more of the agent's own points
        agent.wait_idle(5)
        yield influx, tks, minor
    finally:
        if agent is not None:
            agent.stop()
        influx.stop()


def regex_escape(v):
    return re.sub(r"([\\^$.|?*+()\[\]{}/])", r"\\\1", v)


def substitute(q, values):
    q = q.replace("$timeFilter", "time > now() - 1h")
    q = q.replace("$__interval_ms", "1000").replace("$__interval", "1s")
    for name, vals in values.items():
        q = q.replace("$" + name, "(%s)" % "|".join(regex_escape(v)
                                                     for v in vals))
    return q


def variable_values(influx, dash):
    """Each variable set to every value its query returns, in order (a
    later variable's query uses the earlier ones)."""
    values = {}
    for v in dash["templating"]["list"]:
        series = influx.query(substitute(v["query"], values), DB)
        vals = sorted({row[1] for s in series for row in s["values"]})
        assert vals, "variable %s: no values from %s" % (v["name"],
                                                          v["query"])
        values[v["name"]] = vals
    return values


def test_template_variables_return_values(fed):
    influx, _, _ = fed
    d = load(FILES[0])
    values = variable_values(influx, d)
    assert len(values["pid"]) >= 2 and values["program"] == ["dashprog"]


@pytest.mark.parametrize("fname,panel_id,ref", targets())
def test_panel_query_returns_data(fed, fname, panel_id, ref):
    influx, tks, minor = fed
    d = load(DASH / fname)
    (p,) = [p for p in d["panels"] if p["id"] == panel_id]
    (t,) = [t for t in p["targets"] if t["refId"] == ref]
    for m in measurements_of(t["query"]):
        tk = MEASUREMENTS[m]
        if tk is not None and tk not in tks:
            why = ("toolkit '%s' is not built here (no %s.so in %s)" %
                   (tk, tk, LIBDIR / "toolkits") if not built(tk) else
                   "toolkit '%s' needs CPython 3.12+ (newest here 3.%d)"
                   % (tk, minor))
            pytest.skip("panel '%s' reads %s: %s; its JSON is checked by "
                        "test_dashboard_json_has_what_grafana_requires"
                        % (p["title"], m, why))
    q = substitute(t["query"], variable_values(influx, d))
    series = influx.query(q, DB)
    rows = [r for s in series for r in s["values"]]
    assert rows, "panel '%s' (%s) returned nothing: %s" % (p["title"],
                                                          fname, q)
    # some value that is not null beyond the time column
    assert any(v is not None for r in rows for v in r[1:]), q
