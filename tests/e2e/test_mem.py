"""The mem toolkit on every CPython found: gauges (RSS growth of a program
that grows, gc pauses after forced collections, object counts by type),
the allocator figures (pymalloc's arenas and blocks growing by what a
program keeps, free lists and interned strings where a version exposes
them, glibc's heap, per-domain counts) and allocation sampling (a known
leak named first, within 20% of its size, while much else is allocated and
freed), bad options refused."""
import re

import pytest

from conftest import (LOONG, PROGRAMS, SANITIZE, base_env, loong_cmd,
                      meta, only_proc_dir, points_of, run)

TARGET = PROGRAMS / "mem_target.py"
LEAK = PROGRAMS / "mem_leak.py"


def profile(python, tmp_path, opts, argv, interval="100ms", env=None):
    plain = run([python] + argv, env=env)
    prof = run(loong_cmd(tmp_path / "out", "mem" + opts, interval=interval) +
               [python] + argv, env=env)
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


# allocator setup: (environment, interpreter options, mem options, program
# options, whether every free of the object domain is counted)
SETUPS = {
    # pymalloc alone: its frees are not wrapped, its sampled blocks come
    # from malloc and their frees are seen through PyMem_RawFree
    "pymalloc": ({}, [], "", [], False),
    "alloc_frees": ({}, [], ",alloc_frees=yes", [], True),
    "malloc": ({"PYTHONMALLOC": "malloc"}, [], "", [], True),
    "pymalloc_debug": ({"PYTHONMALLOC": "pymalloc_debug"}, [], "", [],
                       True),
    "tracemalloc_first": ({}, ["-X", "tracemalloc"], "", [], True),
    # tracemalloc wraps over loong's wrappers (and stays: loong's stay in
    # its chain when unloaded, passing through)
    "tracemalloc_after": ({}, [], "", ["tracemalloc"], False),
}


@pytest.mark.parametrize("setup", list(SETUPS))
def test_small_leak_on_every_allocator_setup(python, tmp_path, setup):
    # small blocks (pymalloc's) kept, small lists grown by append
    # (reallocations of sampled blocks) and dropped: the leak named first
    # within 20% of what it keeps, the dropped lists not live, the
    # program's output unchanged (profile()). At a 16 KiB mean the
    # estimate's spread is about 2.5%.
    env, xopts, opts, argv, exact = SETUPS[setup]
    d = profile(python, tmp_path, ":alloc=yes,alloc_mean=16KiB" + opts,
                xopts + [LEAK, "200", "small"] + argv, env=base_env(**env))
    live = collapsed(d / "mem.live.collapsed")
    ranked = sorted(live.items(), key=lambda kv: -kv[1])
    assert leaf(ranked[0][0]) == "leak_small", ranked[:3]
    # 150,000 bytes objects of 133 bytes (header and NUL included), and
    # KEPT's array of as many pointers (at least)
    kept = 150_000 * (100 + 33) + 150_000 * 8
    assert abs(ranked[0][1] - kept) <= 0.2 * kept, ranked[0]
    alloc = collapsed(d / "mem.alloc.collapsed")
    grown = sum(v for s, v in alloc.items() if leaf(s) == "grow")
    assert grown > 20_000_000, grown
    assert sum(v for s, v in live.items() if leaf(s) in ("grow", "churn")) \
        < 0.05 * kept, ranked[:5]
    gauges = [f for m, t, f, ts in points_of(d / "metrics.lp", "loong_mem")]
    wrapped = [f for f in gauges if "alloc_count_obj" in f]
    assert len(wrapped) >= 2
    for f in wrapped:
        assert f["free_count_raw"] >= 0
        assert ("free_count_obj" in f) == exact, sorted(f)
        assert ("free_count_mem" in f) == exact, sorted(f)
    log = (d / "loong.log").read_text()
    assert "dropped" not in log, log
    assert ("wrapped again" in log) == (setup == "tracemalloc_after"), log


@pytest.mark.parametrize("spec", ["mem", "mem:alloc=yes",
                                  "function:mode=sample"])
def test_tracemalloc_stopped_while_loong_ticks(python, tmp_path, spec):
    # loong's threads take the interpreter lock at every tick (1 ms here).
    # Each once made a fresh thread state, allocated without the lock:
    # tracemalloc.stop() at that moment crashed CPython before 3.12.9 and
    # 3.13.2, every run of this program. Each now keeps one state.
    argv = [python, PROGRAMS / "tracemalloc_toggle.py", "1.5"]
    plain = run(argv)
    prof = run(loong_cmd(tmp_path / "out", spec, interval="1ms") + argv)
    assert plain.stdout == b"every round traced True\n"
    assert (prof.stdout, prof.stderr, prof.returncode) == \
        (plain.stdout, plain.stderr, plain.returncode)
    d = only_proc_dir(tmp_path / "out")
    assert meta(d)["exit"] == "exit", meta(d)


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
    (":alloc=yes,alloc_frees=2", "alloc_frees=2"),
    (":alloc_frees=yes", "needs alloc=yes"),
])
def test_bad_options_refused(python, tmp_path, opts, word):
    r = run([LOONG, "run", "-o", tmp_path, "-t", "mem" + opts, "--",
             python, "-c", "print(1)"])
    assert r.returncode == 0 and r.stdout == b"1\n"
    assert word in (only_proc_dir(tmp_path) / "loong.log").read_text()


# ---- the allocator figures -------------------------------------------------

PYMALLOC = ["pymalloc_arenas", "pymalloc_arenas_highwater",
            "pymalloc_arenas_allocated", "pymalloc_arenas_reclaimed",
            "pymalloc_arena_bytes", "pymalloc_pools", "pymalloc_unused_pools",
            "pymalloc_blocks", "pymalloc_allocated_bytes",
            "pymalloc_available_bytes", "pymalloc_unused_pool_bytes",
            "pymalloc_pool_header_bytes", "pymalloc_quantization_bytes",
            "pymalloc_alignment_bytes"]
# the free lists each version's exported _PyX_DebugMallocStats report
FREELISTS = {
    "3.8": {"float", "list", "dict", "tuple", "frame", "cfunction",
            "method"},
    "3.9": {"float", "list", "dict", "tuple", "frame"},
    "3.10": {"float", "list", "dict", "tuple", "frame"},
    "3.11": {"float", "list", "dict", "tuple"},
    "3.12": {"float", "list", "dict", "tuple"},
    "3.13": set(),
}
LIBC = ["libc_heap_bytes", "libc_heap_free_bytes", "libc_heap_mmap_bytes"]
N_TUPLES = 2000000


def minor(py):
    return tuple(int(x) for x in py.split("."))


HEAP_RUNS = {}


def heap_run(python, tmp_path, opts="", env=None, key="pymalloc_arenas"):
    """The points, and of those that have key: the first before the
    tuples, the last once they are made, the last after the interning.
    One run per interpreter and options, shared by the tests that read it
    (each run takes some seconds: its phases are long enough for the
    costly figures)."""
    run_key = (python, opts, None if env is None else tuple(sorted(
        env.items())))
    if run_key not in HEAP_RUNS:
        marks = tmp_path / "marks"
        d = profile(python, tmp_path, opts, [TARGET, "heap", marks],
                    env=env)
        HEAP_RUNS[run_key] = (d, [int(x) for x in
                                  marks.read_text().split()])
    d, m = HEAP_RUNS[run_key]
    pts = [(ts, f) for _, _, f, ts in points_of(d / "metrics.lp",
                                               "loong_mem")]
    # a tick reads its figures just after its time; the costly ones are
    # left out of some ticks (at most 1% of the time: a walk of 1 ms at a
    # 100 ms interval skips the next tick)
    margin = 50 * 10**6
    before = [f for ts, f in pts if m[0] < ts < m[1] - margin and key in f]
    tuples = [f for ts, f in pts if m[2] < ts < m[3] - margin and key in f]
    interned = [f for ts, f in pts if m[4] < ts < m[5] - margin and
                key in f]
    assert before and tuples and interned, \
        (m, [(ts, key in f) for ts, f in pts])
    return d, [f for ts, f in pts], before[0], tuples[-1], interned[-1]


def check_pymalloc_sums(f):
    # what CPython accounts for every arena byte, parsed back consistently
    assert f["pymalloc_arena_bytes"] == (
        f["pymalloc_allocated_bytes"] + f["pymalloc_available_bytes"] +
        f["pymalloc_unused_pool_bytes"] + f["pymalloc_pool_header_bytes"] +
        f["pymalloc_quantization_bytes"] + f["pymalloc_alignment_bytes"]), f
    assert f["pymalloc_arenas_highwater"] >= f["pymalloc_arenas"] > 0
    assert f["pymalloc_arenas"] == (f["pymalloc_arenas_allocated"] -
                                    f["pymalloc_arenas_reclaimed"])
    assert f["pymalloc_arena_bytes"] % f["pymalloc_arenas"] == 0
    assert 0 < f["pymalloc_blocks"] * 16 <= f["pymalloc_allocated_bytes"]


def test_pymalloc_grows_by_what_is_kept(py, python, tmp_path):
    d, pts, before, after, interned = heap_run(python, tmp_path)
    for f in (before, after, interned):
        for k in PYMALLOC:
            assert k in f, (k, sorted(f))
        check_pymalloc_sums(f)
        assert ("pymalloc_arena_map_bytes" in f) == (minor(py) >= (3, 10))
        assert f["allocator_stats_us"] >= 0
    # 2 million tuples of two new ints: each tuple a block of at least 48
    # bytes, each int one more block of at least 32
    grew = after["pymalloc_allocated_bytes"] - \
        before["pymalloc_allocated_bytes"]
    assert grew >= N_TUPLES * (48 + 32), (before, after)
    assert after["pymalloc_blocks"] - before["pymalloc_blocks"] >= \
        2 * N_TUPLES - 1000
    arena = after["pymalloc_arena_bytes"] // after["pymalloc_arenas"]
    assert arena in (256 << 10, 1 << 20)
    assert after["pymalloc_arenas"] - before["pymalloc_arenas"] >= \
        N_TUPLES * (48 + 32) // arena
    assert after["pymalloc_arena_bytes"] - before["pymalloc_arena_bytes"] \
        >= grew
    # sys.getallocatedblocks() agrees in size
    assert after["allocated_blocks"] - before["allocated_blocks"] >= \
        2 * N_TUPLES - 1000


def test_free_lists_and_interned_strings(py, python, tmp_path):
    d, pts, before, after, interned = heap_run(python, tmp_path,
                                               key="gc_count_0")
    for f in pts:
        if "allocator_stats_us" not in f:
            continue  # a tick the allocator figures were left out of
        have = {k[len("freelist_"):] for k in f if k.startswith("freelist_")}
        want = FREELISTS[py] | ({"bytes"} if FREELISTS[py] else set())
        assert have == want, (py, sorted(have))
        assert all(f[k] >= 0 for k in f if k.startswith("freelist_"))
    if minor(py) >= (3, 12):
        # 100,000 new strings interned and kept
        assert interned["interned_strings"] - after["interned_strings"] >= \
            99000, (after, interned)
        assert after["interned_strings"] > 1000
    else:
        assert not any("interned_strings" in f for f in pts)


def test_libc_heap(python, tmp_path):
    if SANITIZE:
        # malloc is the sanitizer's: glibc's own heap would be the wrong one
        d, pts, _, _, _ = heap_run(python, tmp_path, key="gc_count_0")
        assert not any(k in f for f in pts for k in LIBC)
        return
    d, pts, before, after, interned = heap_run(python, tmp_path,
                                               key="libc_heap_bytes")
    for f in pts:
        if "libc_heap_bytes" in f:
            assert set(LIBC) <= set(f)
            assert f["libc_heap_bytes"] >= f["libc_heap_mmap_bytes"]
    # the list of 2 million references: 16 MB from malloc
    assert after["libc_heap_bytes"] - before["libc_heap_bytes"] >= \
        N_TUPLES * 8, (before, after)


def test_libc_heap_within_budget(python, tmp_path):
    if SANITIZE:
        pytest.skip("malloc is the sanitizer's: no libc figures")
    # 150,000 free chunks: mallinfo2 walks them all (about 25 ms here), so
    # it is read at most 1% of the time: not at every 100 ms tick
    d = profile(python, tmp_path, "", [TARGET, "frag"])
    pts = [f for m, t, f, ts in points_of(d / "metrics.lp", "loong_mem")]
    assert len(pts) >= 10
    with_libc = [f for f in pts if "libc_heap_bytes" in f]
    assert 1 <= len(with_libc) <= len(pts) // 2, \
        [("libc_heap_bytes" in f) for f in pts]
    assert max(f["libc_heap_free_bytes"] for f in with_libc) >= \
        150000 * 600 * 0.9
    # the other figures are in every point
    assert all("rss_bytes" in f and "gc_count_0" in f for f in pts)


@pytest.mark.parametrize("how", ["PYTHONMALLOC=malloc", "-X tracemalloc"])
def test_pymalloc_figures_left_out_without_pymalloc(py, python, tmp_path,
                                                    how):
    # CPython cannot tell pymalloc's figures when another allocator (or a
    # hook over it) serves the object domain: left out, nothing else changes
    if how.startswith("PYTHONMALLOC"):
        env, argv = base_env(PYTHONMALLOC="malloc"), [TARGET, "types"]
    else:
        env, argv = None, ["-X", "tracemalloc", TARGET, "types"]
    d = profile(python, tmp_path, "", argv, env=env)
    pts = [f for m, t, f, ts in points_of(d / "metrics.lp", "loong_mem")]
    assert len(pts) >= 3
    for f in pts:
        assert not [k for k in f if k.startswith("pymalloc_")], sorted(f)
        assert "rss_bytes" in f and "gc_count_0" in f
    with_stats = [f for f in pts if "allocator_stats_us" in f]
    assert len(with_stats) >= 2
    for f in with_stats:
        assert {k[len("freelist_"):] for k in f if k.startswith(
            "freelist_")} - {"bytes"} == FREELISTS[py]
    if not SANITIZE:
        assert any("libc_heap_bytes" in f for f in pts)


def test_figures_turned_off(python, tmp_path):
    d = profile(python, tmp_path, ":pymalloc=no,libc=no", [TARGET, "types"])
    pts = [f for m, t, f, ts in points_of(d / "metrics.lp", "loong_mem")]
    assert len(pts) >= 3
    for f in pts:
        assert not [k for k in f if k.startswith(("pymalloc_", "freelist_",
                                                  "libc_", "allocator_"))]
        assert "rss_bytes" in f and "allocated_blocks" in f


@pytest.mark.parametrize("frees", ["", ",alloc_frees=yes"])
def test_domains_with_alloc(python, tmp_path, frees):
    # with the allocators wrapped, pymalloc's figures are still read (the
    # wrapper is lifted for that call). With alloc_frees=yes the per-domain
    # counts give the change in blocks held: allocations minus frees; by
    # default pymalloc's frees are not wrapped, so the mem and object
    # domains' frees are left out, and allocated_blocks gives the blocks
    # held through both
    d, pts, before, after, interned = heap_run(python, tmp_path,
                                               ":alloc=yes" + frees)
    for f in (before, after):
        for k in PYMALLOC:
            assert k in f, (k, sorted(f))
        check_pymalloc_sums(f)
        assert f["free_count_raw"] >= 0
        for dom in ("raw", "mem", "obj"):
            assert f["alloc_count_" + dom] >= 0
        for dom in ("mem", "obj"):
            assert (("free_count_" + dom) in f) == bool(frees), sorted(f)

    def net(f):
        if not frees:
            return f["allocated_blocks"]
        return f["alloc_count_obj"] - f["free_count_obj"]
    assert net(after) - net(before) >= 2 * N_TUPLES - 1000, (before, after)
    assert after["alloc_count_obj"] - before["alloc_count_obj"] >= \
        2 * N_TUPLES
    assert after["pymalloc_allocated_bytes"] - \
        before["pymalloc_allocated_bytes"] >= N_TUPLES * (48 + 32)
    # the last point comes after the wrappers are removed (and always has
    # the allocator figures)
    assert "alloc_count_obj" not in pts[-1]
    assert "pymalloc_arenas" in pts[-1]


@pytest.mark.parametrize("opts,word", [(":pymalloc=maybe", "pymalloc=maybe"),
                                       (":libc=2", "libc=2")])
def test_bad_allocator_options_refused(python, tmp_path, opts, word):
    r = run([LOONG, "run", "-o", tmp_path, "-t", "mem" + opts, "--",
             python, "-c", "print(1)"])
    assert r.returncode == 0 and r.stdout == b"1\n"
    assert word in (only_proc_dir(tmp_path) / "loong.log").read_text()
