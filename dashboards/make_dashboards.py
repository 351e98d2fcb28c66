#!/usr/bin/env python3
"""Writes the Grafana dashboards of loong (dashboards/*.json) from the
tables below: edit here, run `python3 dashboards/make_dashboards.py`, and
commit both (tests/e2e/test_dashboards.py checks they agree, and runs
every query against a real InfluxDB). See docs/dashboards.md."""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
DS = {"type": "influxdb", "uid": "loong-influxdb"}
SCHEMA_VERSION = 39

# the filter every per-process query carries
F = ('"host" =~ /^$host$/ AND "program" =~ /^$program$/ '
     'AND "pid" =~ /^$pid$/')
PER_S = "* 1000 / $__interval_ms"   # a per-interval count -> per second


def variables():
    def var(name, query, label):
        return {"name": name, "label": label, "type": "query",
                "datasource": DS, "query": query, "definition": query,
                "refresh": 2, "multi": True, "includeAll": True,
                "allValue": ".*", "current": {}, "options": [],
                "sort": 1, "hide": 0, "regex": ""}
    return [
        var("host", 'SHOW TAG VALUES FROM "loong_runtime" WITH KEY = '
            '"host"', "host"),
        var("program", 'SHOW TAG VALUES FROM "loong_runtime" WITH KEY = '
            '"program" WHERE "host" =~ /^$host$/', "program"),
        var("pid", 'SHOW TAG VALUES FROM "loong_runtime" WITH KEY = "pid" '
            'WHERE "host" =~ /^$host$/ AND "program" =~ /^$program$/',
            "pid"),
    ]


def target(query, alias="", fmt="time_series", ref="A"):
    t = {"refId": ref, "datasource": DS, "query": query, "rawQuery": True,
         "resultFormat": fmt}
    if alias:
        t["alias"] = alias
    return t


def panel(title, targets, unit="short", kind="timeseries", w=12, h=8,
          desc=""):
    p = {"type": kind, "title": title, "description": desc,
         "datasource": DS, "targets": targets,
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}}
    if kind == "timeseries":
        p["options"] = {"legend": {"displayMode": "table",
                                   "placement": "right",
                                   "calcs": ["mean", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}
        p["fieldConfig"]["defaults"]["custom"] = {"drawStyle": "line",
                                                  "fillOpacity": 10}
    elif kind == "table":
        p["options"] = {"showHeader": True}
        p["transformations"] = [{"id": "merge", "options": {}}]
    return p, w, h


def dashboard(uid, title, desc, panels, per_process=True):
    out, x, y, row_h = [], 0, 0, 0
    for i, (p, w, h) in enumerate(panels, 1):
        if x + w > 24:
            x, y = 0, y + row_h
            row_h = 0
        p = dict(p, id=i, gridPos={"x": x, "y": y, "w": w, "h": h})
        out.append(p)
        x += w
        row_h = max(row_h, h)
    return {
        "uid": uid, "title": title, "description": desc,
        "tags": ["loong"], "schemaVersion": SCHEMA_VERSION, "version": 1,
        "editable": True, "graphTooltip": 1, "timezone": "",
        "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
        "annotations": {"list": []}, "links": [
            {"title": "loong", "type": "dashboards", "tags": ["loong"],
             "asDropdown": True}],
        "templating": {"list": variables()},
        "panels": out,
    }


def functions():
    src = 'FROM "loong_function" WHERE $timeFilter AND ' + F
    return dashboard("loong-functions", "loong: functions",
                     "Where the time goes (function toolkit).", [
        panel("Top functions by self time",
              [target('SELECT top("self_s", "function", 15) AS "self_s" '
                      'FROM (SELECT sum("self_us") / 1000000 AS "self_s" '
                      + src + ' AND "function" != \'other\' '
                      'GROUP BY "function")', fmt="table")],
              unit="s", kind="table", w=10, h=10,
              desc="Seconds of self time in the time range, summed over "
                   "the processes selected (functions outside each "
                   "interval's top are in 'other', left out here)."),
        panel("Self time by function",
              [target('SELECT sum("self_us") / 1000 / $__interval_ms '
                      + src + ' GROUP BY time($__interval), "function" '
                      'fill(none)', alias="$tag_function")],
              unit="percentunit", w=14, h=10,
              desc="Seconds of self time per second (1 = one thread "
                   "busy in the function all the time)."),
        panel("Calls per second by function",
              [target('SELECT sum("calls") ' + PER_S + ' ' + src +
                      ' GROUP BY time($__interval), "function" fill(none)',
                      alias="$tag_function")], unit="ops"),
        panel("Total time by function",
              [target('SELECT sum("total_us") / 1000 / $__interval_ms '
                      + src + ' GROUP BY time($__interval), "function" '
                      'fill(none)', alias="$tag_function")],
              unit="percentunit",
              desc="Time in the function and what it called, per second "
                   "(recursion counted once per call)."),
        panel("Slowest call so far",
              [target('SELECT max("max_us") / 1000 ' + src +
                      ' GROUP BY time($__interval), "function" fill(none)',
                      alias="$tag_function")], unit="ms"),
        panel("Sampled threads: running and waiting",
              [target('SELECT sum("running") ' + PER_S + ' AS "running", '
                      'sum("waiting") ' + PER_S + ' AS "waiting" FROM '
                      '"loong_function_samples" WHERE $timeFilter AND ' + F +
                      ' GROUP BY time($__interval) fill(none)')],
              unit="short",
              desc="Sample mode (-t function:mode=sample): thread samples "
                   "per second in each state."),
    ])


def memory():
    src = 'FROM "loong_mem" WHERE $timeFilter AND ' + F
    by = ' GROUP BY time($__interval), "program", "pid" fill(none)'
    alias = "$tag_program $tag_pid"
    return dashboard("loong-memory", "loong: memory",
                     "Memory and garbage collection (mem toolkit).", [
        panel("Resident memory (RSS)",
              [target('SELECT max("rss_bytes") ' + src + by, alias=alias)],
              unit="bytes"),
        panel("Python heap: allocated blocks",
              [target('SELECT max("allocated_blocks") ' + src + by,
                      alias=alias)], unit="short",
              desc="sys.getallocatedblocks(): memory blocks the Python "
                   "allocator holds."),
        panel("Python heap: small objects and malloc",
              [target('SELECT max("pymalloc_allocated_bytes") AS '
                      '"small objects", max("pymalloc_arena_bytes") AS '
                      '"pymalloc arenas", max("libc_heap_bytes") AS '
                      '"malloc (process)" ' + src + by,
                      alias=alias + " $col")], unit="bytes",
              desc="pymalloc: the blocks of 512 bytes or less in use, and "
                   "the arenas holding them; malloc: glibc's heap in use, "
                   "process-wide (bigger blocks, C extensions). Absent "
                   "where a process does not use them (PYTHONMALLOC="
                   "malloc, tracemalloc, another malloc)."),
        panel("Python heap: held but free",
              [target('SELECT max("pymalloc_available_bytes") + '
                      'max("pymalloc_unused_pool_bytes") AS "pymalloc", '
                      'max("libc_heap_free_bytes") AS "malloc" '
                      + src + by, alias=alias + " $col")], unit="bytes",
              desc="Memory the allocators keep but no block uses: free "
                   "blocks and empty pools in pymalloc's arenas, free "
                   "chunks in glibc's heap (fragmentation)."),
        panel("Garbage collections per second",
              [target('SELECT non_negative_derivative(max('
                      '"gc_collections_0"), 1s) AS "gen0", '
                      'non_negative_derivative(max("gc_collections_1"), 1s)'
                      ' AS "gen1", non_negative_derivative(max('
                      '"gc_collections_2"), 1s) AS "gen2" ' + src + by,
                      alias=alias + " $col")], unit="ops"),
        panel("Time in garbage collection",
              [target('SELECT sum("gc_pause_us") / 1000 / $__interval_ms '
                      + src + by, alias=alias)], unit="percentunit",
              desc="Seconds of gc pauses per second."),
    ])


def exceptions():
    src = 'FROM "loong_exception" WHERE $timeFilter AND ' + F
    return dashboard("loong-exceptions", "loong: exceptions",
                     "Exceptions raised, by type (exception toolkit, "
                     "CPython 3.12+).", [
        panel("Exceptions per second by type",
              [target('SELECT sum("count") ' + PER_S + ' ' + src +
                      ' GROUP BY time($__interval), "type" fill(none)',
                      alias="$tag_type")], unit="ops", w=14),
        panel("Most raised",
              [target('SELECT sum("count") AS "raised" ' + src +
                      ' GROUP BY "type", "function"', fmt="table")],
              kind="table", w=10,
              desc="Exceptions raised in the time range by type and by "
                   "the function that raised them."),
    ])


def health():
    rt = 'FROM "loong_runtime" WHERE $timeFilter AND ' + F
    ag = 'FROM "loongd" WHERE $timeFilter AND "host" =~ /^$host$/'
    return dashboard("loong-health", "loong: health",
                     "loong's own figures: the runtime in each process "
                     "and the host agent, loongd.", [
        panel("Records per second (runtime)",
              [target('SELECT non_negative_derivative(max("records"), 1s) '
                      + rt + ' GROUP BY time($__interval), "program", '
                      '"pid" fill(none)', alias="$tag_program $tag_pid")],
              unit="ops"),
        panel("Records dropped (runtime)",
              [target('SELECT non_negative_difference(max("dropped")) '
                      + rt + ' GROUP BY time($__interval), "program", '
                      '"pid" fill(none)', alias="$tag_program $tag_pid")],
              unit="short",
              desc="Points a process could not keep (its buffer was full) "
                   "or send (the agent's socket was full or absent)."),
        panel("Toolkits loaded",
              [target('SELECT last("toolkits") AS "toolkits", '
                      'last("records") AS "records", last("dropped") AS '
                      '"dropped" ' + rt + ' GROUP BY "program", "pid"',
                      fmt="table")], kind="table", w=24, h=6),
        panel("Agent: lines per second",
              [target('SELECT non_negative_derivative(max("received"), 1s) '
                      'AS "received", non_negative_derivative(max('
                      '"written"), 1s) AS "written", '
                      'non_negative_derivative(max("rejected"), 1s) AS '
                      '"rejected" ' + ag + ' GROUP BY time($__interval), '
                      '"host" fill(none)', alias="$tag_host $col")],
              unit="ops"),
        panel("Agent: buffered lines",
              [target('SELECT max("buffered") AS "buffered", '
                      'max("spooled") AS "spooled" ' + ag +
                      ' GROUP BY time($__interval), "host" fill(none)',
                      alias="$tag_host $col")], unit="short",
              desc="Lines waiting for InfluxDB, in memory and in the "
                   "disk spool."),
        panel("Agent: dropped and rejected",
              [target('SELECT non_negative_difference(max("dropped")) AS '
                      '"dropped", non_negative_difference(max("rejected")) '
                      'AS "rejected" ' + ag + ' GROUP BY time($__interval),'
                      ' "host" fill(none)', alias="$tag_host $col")],
              unit="short", w=24,
              desc="dropped: the buffer was full (oldest dropped) or "
                   "InfluxDB refused them; rejected: not valid line "
                   "protocol."),
    ])


DASHBOARDS = {"loong-functions.json": functions,
              "loong-memory.json": memory,
              "loong-exceptions.json": exceptions,
              "loong-health.json": health}


def render(make):
    return json.dumps(make(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    for name, make in DASHBOARDS.items():
        (HERE / name).write_text(render(make))
        print("wrote", HERE / name)
