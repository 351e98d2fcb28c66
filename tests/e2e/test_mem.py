"""The mem toolkit on every CPython found: gauges (RSS growth of a program
that grows, gc pauses after forced collections, object counts by type) and
allocation sampling (a known leak named first, within 20% of its size, while
much else is allocated and freed), bad options refused."""
import re

import pytest

from conftest import (LOONG, PROGRAMS, loong_cmd, only_proc_dir, points_of,
                      run)

TARGET = PROGRAMS / "mem_target.py"
LEAK = PROGRAMS / "mem_leak.py"


def profile(python, tmp_path, opts, argv, interval="100ms"):
    plain = run([python] + argv)
    prof = run(loong_cmd(tmp_path / "out", "mem" + opts, interval=interval) +
               [python] + argv)
    # the program cannot tell: same output, same status
    assert (prof.stdout, prof.returncode) == (plain.stdout, plain.returncode)
    assert prof.stderr == plain.stderr, prof.stderr
    return only_proc_dir(tmp_path / "out")


def test_rss_growth(python, tmp_path):
    d = profile(python, tmp_path, "", [TARGET, "grow"])
    pts = points_of(d / "metrics.lp", "loong_mem")
    assert len(pts) >= 5
    rss = [f["rss_bytes"] for m, t, f, ts in pts]
    assert max(rss) - min(rss) >= 60 << 20, rss
    for m, tags, f, ts in pts:
        for k in ("rss_bytes", "vms_bytes", "allocated_blocks",
                  "gc_count_0", "gc_count_1", "gc_count_2",
                  "gc_collections_0", "gc_collections_1",
                  "gc_collections_2", "gc_collected", "gc_uncollectable",
                  "gc_pause_us", "gc_pause_max_us"):
            assert k in f, (k, f)
        assert f["vms_bytes"] >= f["rss_bytes"] > 0
        if "pss_bytes" in f:
            assert 0 < f["uss_bytes"] <= f["rss_bytes"]
        # no allocator wrapping without alloc=yes: no per-domain figures
        assert "alloc_count_obj" not in f


def test_gc_pauses(python, tmp_path):
    d = profile(python, tmp_path, "", [TARGET, "gc"])
    pts = points_of(d / "metrics.lp", "loong_mem")
    assert sum(f["gc_pauses"] for m, t, f, ts in pts) >= 5
    assert sum(f["gc_pause_us"] for m, t, f, ts in pts) > 0
    mx = max(f["gc_pause_max_us"] for m, t, f, ts in pts)
    assert 0 < mx <= sum(f["gc_pause_us"] for m, t, f, ts in pts)
    last = pts[-1][2]
    assert last["gc_collections_2"] >= 5
    assert last["gc_collected"] >= 3 * 50000


def test_types(python, tmp_path):
    d = profile(python, tmp_path, ":types=5", [TARGET, "types"])
    pts = points_of(d / "metrics.lp", "loong_mem_type")
    assert pts
    blobs = [f for m, t, f, ts in pts if t["type"] == "__main__.Blob"]
    assert blobs, sorted({t["type"] for m, t, f, ts in pts})
    assert blobs[-1]["count"] == 50000
    assert blobs[-1]["bytes"] >= 50000 * 16
    per_ts = {}
    for m, t, f, ts in pts:
        per_ts[ts] = per_ts.get(ts, 0) + 1
    assert max(per_ts.values()) <= 5


def collapsed(path):
    out = {}
    for line in path.read_text().splitlines():
        stack, _, v = line.rpartition(" ")
        out[stack] = out.get(stack, 0) + int(v)
    return out


def leaf(stack):
    return re.sub(r" \(.*", "", stack.split(";")[-1])


def test_leak_found(python, tmp_path):
    # 64 KiB mean: each 100 kB block is sampled with probability 0.78, so
    # the estimate's spread is about 4%; at the default 512 KiB it is 15%
    d = profile(python, tmp_path, ":alloc=yes,alloc_mean=64KiB", [LEAK])
    live = collapsed(d / "mem.live.collapsed")
    ranked = sorted(live.items(), key=lambda kv: -kv[1])
    assert leaf(ranked[0][0]) == "leak", ranked[:3]
    assert ranked[0][0].split(";")[-2].startswith("main ")
    assert abs(ranked[0][1] - 20_000_000) <= 0.2 * 20_000_000, ranked[0]
    alloc = collapsed(d / "mem.alloc.collapsed")
    churn = sum(v for s, v in alloc.items() if leaf(s) == "churn")
    assert churn > 5 * 20_000_000  # much more allocated than kept there
    assert sum(v for s, v in live.items() if leaf(s) == "churn") < \
        0.1 * 20_000_000
    pts = points_of(d / "metrics.lp", "loong_mem_alloc")
    assert sum(f["alloc_bytes"] for m, t, f, ts in pts
               if t["function"] == "leak") == alloc[ranked[0][0]]
    # per-domain counts while wrapped (the last tick comes after removal)
    gauges = [f for m, t, f, ts in points_of(d / "metrics.lp", "loong_mem")]
    assert max(f.get("alloc_count_obj", -1) for f in gauges) > 0
    assert max(f.get("alloc_bytes_raw", -1) for f in gauges) > 0
    assert gauges[-1]["sampled_live_bytes"] > 0.8 * 20_000_000


def test_leak_default_mean(python, tmp_path):
    # at the default mean only the ranking is certain enough to test
    d = profile(python, tmp_path, ":alloc=yes", [LEAK])
    live = collapsed(d / "mem.live.collapsed")
    ranked = sorted(live.items(), key=lambda kv: -kv[1])
    assert leaf(ranked[0][0]) == "leak", ranked[:3]
    assert 0.4 * 20_000_000 <= ranked[0][1] <= 1.8 * 20_000_000


def test_threads_and_unload_restores(python, tmp_path):
    d = profile(python, tmp_path, ":alloc=yes,alloc_mean=16KiB",
                [TARGET, "threads"])
    log = (d / "loong.log").read_text()
    assert "allocation samples" in log
    alloc = collapsed(d / "mem.alloc.collapsed")
    # the threads' own allocations, with their stacks
    assert any(leaf(s).endswith("work") or "listcomp" in leaf(s)
               for s in alloc), list(alloc)[:5]


@pytest.mark.parametrize("opts,word", [
    (":types=-1", "types=-1"), (":types=x", "types=x"),
    (":types_every=0s", "types_every=0s"), (":alloc=maybe", "alloc=maybe"),
    (":alloc_mean=0", "alloc_mean=0"), (":alloc_mean=12XB", "alloc_mean=12XB"),
    (":top=0", "top=0"),
])
def test_bad_options_refused(python, tmp_path, opts, word):
    r = run([LOONG, "run", "-o", tmp_path, "-t", "mem" + opts, "--",
             python, "-c", "print(1)"])
    assert r.returncode == 0 and r.stdout == b"1\n"
    assert word in (only_proc_dir(tmp_path) / "loong.log").read_text()
