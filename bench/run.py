#!/usr/bin/python3
"""loong overhead benchmark driver.

Runs every workload in bench/workloads under every selected interpreter in
several configurations, interleaved (repetition by repetition, so slow
drifts in machine load hit every configuration alike), and prints Markdown
tables of wall time: the median of plain runs in seconds, every other
configuration as a ratio to it; then the same for CPU time (user + system,
from getrusage(RUSAGE_CHILDREN) deltas around each run).

Columns:
  a  plain:       python w.py
  b  loong:       loong run -o TMP -- python w.py          (runtime, no toolkit)
  c  loong+ex:    loong run -t example -o TMP -- python w.py
  g  loong+fn:    loong run -t function -o TMP -- python w.py (trace mode)
  d  cProfile:    python -m cProfile -o /dev/null w.py
  e  yappi:       python bench/yappi_run.py w.py           (Debian's python3 only)
  f  austin:      austin -o /dev/null python w.py          (if on PATH)

Every run must exit 0 and print the same checksum as every other run of that
workload; anything else stops the benchmark with an error. Every loong run
must leave exactly one process folder with a meta.json naming the expected
interpreter and toolkits (so a silently inert runtime cannot pass for a
cheap one). Nothing here asserts anything about time.

Run with Debian's /usr/bin/python3; the workloads run under the interpreters
tools/find-pythons prints, plus Debian's python3 as "3.11-debian". Columns b
and c apply to an interpreter when build/ has a runtime for its minor version
(Debian's 3.11 loads the one built for pyenv's 3.11: same minor, same ABI).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
WORKLOADS_DIR = os.path.join(BENCH, "workloads")
LOONG = os.path.join(ROOT, "build", "bin", "loong")
FIND_PYTHONS = os.path.join(ROOT, "tools", "find-pythons")
YAPPI_RUN = os.path.join(BENCH, "yappi_run.py")
DEBIAN_PYTHON = "/usr/bin/python3"
DEBIAN_LABEL = "3.11-debian"
RUN_TIMEOUT = 600  # seconds; a hung run is an error, not a measurement

# Workloads in the order the tables show them.
WORKLOADS = ["recursion", "methods", "loops", "threads", "asyncgen", "mix"]

COLUMNS = [
    ("a", "none"),
    ("b", "loong, no toolkit"),
    ("c", "loong -t example"),
    ("g", "loong -t function"),
    ("h", "loong -t function:mode=sample,hz=100"),
    ("i", "loong -t function:mode=sample,hz=1000"),
    ("d", "cProfile"),
    ("e", "yappi"),
    ("f", "austin"),
]


class BenchError(Exception):
    pass


def die(msg):
    sys.stderr.write("bench: error: %s\n" % msg)
    sys.exit(1)


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- discovery

def find_pythons():
    """[(label, path)] from tools/find-pythons, then Debian's python3."""
    try:
        out = subprocess.run([FIND_PYTHONS], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        die("cannot run %s: %s" % (FIND_PYTHONS, e))
    found = []
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            found.append((parts[0], parts[1].strip()))
    if os.access(DEBIAN_PYTHON, os.X_OK):
        found.append((DEBIAN_LABEL, DEBIAN_PYTHON))
    return found


def select_pythons(found, wanted):
    if not wanted:
        return found
    by_label = dict(found)
    chosen = []
    for tok in wanted.split(","):
        tok = tok.strip()
        if not tok:
            continue
        if tok in ("debian", DEBIAN_LABEL):
            tok = DEBIAN_LABEL
        if tok not in by_label:
            die("no interpreter %r (found: %s)"
                % (tok, ", ".join(l for l, _ in found) or "none"))
        if tok not in [l for l, _ in chosen]:
            chosen.append((tok, by_label[tok]))
    return chosen


def python_version(path):
    return subprocess.run(
        [path, "-c", "import sys; print(sys.version.replace('\\n', ' '))"],
        stdout=subprocess.PIPE, universal_newlines=True, check=True,
    ).stdout.strip()


def has_yappi(path):
    r = subprocess.run([path, "-c", "import yappi"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_head():
    r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    if r.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                            "--untracked-files=no", "--", "src", "python",
                            "include"],
                           stdout=subprocess.PIPE, universal_newlines=True)
    head = r.stdout.strip()
    if dirty.stdout.strip():
        head += " (with uncommitted changes in src/, python/ or include/)"
    return head


# ----------------------------------------------------------------- commands

def command_for(col, python, workload, outdir, austin, loong, yappi_run):
    """argv for one run, or None when the column does not apply."""
    if col == "a":
        return [python, workload]
    if col == "b":
        return [loong, "run", "-o", outdir, "--", python, workload]
    if col == "c":
        return [loong, "run", "-t", "example", "-o", outdir, "--",
                python, workload]
    if col == "g":
        return [loong, "run", "-t", "function", "-o", outdir, "--",
                python, workload]
    if col in ("h", "i"):
        hz = "100" if col == "h" else "1000"
        return [loong, "run", "-t", "function:mode=sample,hz=" + hz, "-o",
                outdir, "--", python, workload]
    if col == "d":
        return [python, "-m", "cProfile", "-o", os.devnull, workload]
    if col == "e":
        return [python, yappi_run, workload]
    if col == "f":
        return [austin, "-o", os.devnull, python, workload]
    raise ValueError(col)


def minor_of(version):
    """'3.11' from a sys.version string."""
    return ".".join(version.split()[0].split(".")[:2])


def has_runtime(minor):
    """build/ holds loong's runtime for CPython `minor` ('3.12')."""
    d = os.path.join(ROOT, "build", "lib", "loong", "python", "loong")
    tag = "_runtime.cpython-%s-" % minor.replace(".", "")
    try:
        return any(n.startswith(tag) and n.endswith(".so")
                   for n in os.listdir(d))
    except OSError:
        return False


def applicable_columns(label, minor, austin, yappi_ok):
    cols = ["a"]
    if has_runtime(minor):
        cols += ["b", "c", "g", "h", "i"]
    cols.append("d")
    if label == DEBIAN_LABEL and yappi_ok:
        cols.append("e")
    if austin:
        cols.append("f")
    return cols


def clean_env():
    """The environment the workloads see: ours, minus anything that would
    load loong (or another sitecustomize) into the baseline runs."""
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("LOONG_") or k == "PYTHONPATH":
            del env[k]
    return env


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def snapshot(tmp, workloads):
    """Copy build/ (a relocatable prefix) and the workloads into tmp; return
    their paths and the digests of what will be measured."""
    build = os.path.join(tmp, "build")
    shutil.copytree(os.path.join(ROOT, "build"), build, symlinks=True)
    wdir = os.path.join(tmp, "workloads")
    os.mkdir(wdir)
    digests = {}
    for w in workloads:
        src = os.path.join(WORKLOADS_DIR, w + ".py")
        dst = os.path.join(wdir, w + ".py")
        shutil.copyfile(src, dst)
        digests[w] = sha256_file(dst)
    runtimes = os.path.join(build, "lib", "loong", "python", "loong")
    built = {}
    for name in sorted(os.listdir(runtimes)):
        if name.endswith(".so"):
            built[name] = sha256_file(os.path.join(runtimes, name))
    built["example.so"] = sha256_file(
        os.path.join(build, "lib", "loong", "toolkits", "example.so"))
    yappi_run = os.path.join(tmp, "yappi_run.py")
    shutil.copyfile(YAPPI_RUN, yappi_run)
    return {"loong": os.path.join(build, "bin", "loong"), "workloads": wdir,
            "yappi_run": yappi_run,
            "digests": digests, "built": built}


def changed_workloads(snap):
    """Workloads whose file in bench/workloads no longer matches the copy
    that was measured."""
    out = []
    for w, digest in sorted(snap["digests"].items()):
        path = os.path.join(WORKLOADS_DIR, w + ".py")
        if not os.path.isfile(path) or sha256_file(path) != digest:
            out.append(w)
    return out


def check_loong_output(outdir, col, version_prefix):
    """The runtime really ran: one process folder, its meta.json naming this
    interpreter and the expected toolkits."""
    procs = [d for d in os.listdir(outdir)
             if os.path.isdir(os.path.join(outdir, d))]
    if len(procs) != 1:
        raise BenchError("expected one loong process folder in %s, found %r"
                         % (outdir, procs))
    pdir = os.path.join(outdir, procs[0])
    meta_path = os.path.join(pdir, "meta.json")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise BenchError("loong wrote no readable meta.json (%s): the runtime "
                         "did not run" % e)
    got = meta.get("python", {}).get("version", "")
    if not (got == version_prefix or got.startswith(version_prefix + ".")):
        raise BenchError("meta.json says python %r, expected %s"
                         % (got, version_prefix))
    names = [t.get("name") for t in meta.get("toolkits", [])]
    want = {"c": ["example"], "g": ["function"], "h": ["function"],
            "i": ["function"]}.get(col, [])
    if names != want:
        raise BenchError("meta.json lists toolkits %r, expected %r"
                         % (names, want))
    if col == "c" and not os.path.getsize(os.path.join(pdir, "example.txt")):
        raise BenchError("the example toolkit wrote an empty example.txt")
    if col in ("g", "h", "i") and not os.path.getsize(os.path.join(pdir, "function.tsv")):
        raise BenchError("the function toolkit wrote an empty function.tsv")


def children_cpu():
    """CPU seconds (user + system) of every child waited for so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_once(argv, env, cwd):
    """(wall seconds, CPU seconds, stdout) of one run. subprocess.run waits
    for the child, so its CPU time (threads included; loong run execs, so
    the same process) lands in RUSAGE_CHILDREN before the second reading."""
    c0 = children_cpu()
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                       universal_newlines=True, timeout=RUN_TIMEOUT)
    t1 = time.perf_counter()
    c1 = children_cpu()
    if r.returncode != 0:
        raise BenchError("exit status %d from %s\n--- stderr ---\n%s"
                         % (r.returncode, " ".join(map(shlex.quote, argv)),
                            r.stderr[-4000:]))
    return t1 - t0, c1 - c0, r.stdout.strip()


# ------------------------------------------------------------------ tables

def fmt_ratio(x):
    return "%.2fx" % x


def spread(samples):
    """(median - min) / median, as a percentage."""
    med = statistics.median(samples)
    return 100.0 * (med - min(samples)) / med if med else 0.0


KINDS = {"wall": "wall time", "cpu": "CPU time (user + system)"}


def render(all_results, pythons, cols_for, workloads, reps, kind):
    """Markdown tables, one per interpreter, from
    all_results[kind][(label, w, col)]; kind is "wall" or "cpu"."""
    results = all_results[kind]
    out = []
    for label, _path in pythons:
        cols = cols_for[label]
        out.append("### Python %s: %s\n" % (label, KINDS[kind]))
        head = ["workload", "(a) none, median %s s" % kind]
        for key, name in COLUMNS[1:]:
            head.append("(%s) %s" % (key, name))
        head.append("spread a / b")
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for w in workloads:
            a = results[(label, w, "a")]
            a_med, a_min = statistics.median(a), min(a)
            row = [w, "%.3f" % a_med]
            for key, _name in COLUMNS[1:]:
                s = results.get((label, w, key))
                if key not in cols or not s:
                    row.append("n/a")
                    continue
                row.append("%s (min %s)" % (
                    fmt_ratio(statistics.median(s) / a_med),
                    fmt_ratio(min(s) / a_min)))
            sp = "%.1f%%" % spread(a)
            if "b" in cols:
                sp += " / %.1f%%" % spread(results[(label, w, "b")])
            row.append(sp)
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    out.append(
        "Each cell: ratio of medians to (a), and in brackets the ratio of "
        "minimums, over %d interleaved repetitions. \"spread\" is "
        "(median - min) / median of the raw times of (a) and (b): how far "
        "the typical run sits above the best one, a measure of the noise."
        % reps)
    out.append("")

    # Summary of the claim: loong with no toolkit against no loong.
    rows = []
    for label, _path in pythons:
        if "b" not in cols_for[label]:
            continue
        ratios, min_ratios, overlap = [], [], 0
        for w in workloads:
            a = results[(label, w, "a")]
            b = results[(label, w, "b")]
            ratios.append(statistics.median(b) / statistics.median(a))
            min_ratios.append(min(b) / min(a))
            if min(b) <= max(a) and min(a) <= max(b):
                overlap += 1
        rows.append("| %s | %s | %s .. %s | %s | %d / %d |" % (
            label, fmt_ratio(geomean(ratios)), fmt_ratio(min(ratios)),
            fmt_ratio(max(ratios)), fmt_ratio(geomean(min_ratios)),
            overlap, len(workloads)))
    if rows:
        out.append("### Summary, %s: (b) loong with no toolkit vs (a) "
                   "none\n" % KINDS[kind])
        out.append("| python | geomean of median ratios | range over "
                   "workloads | geomean of min ratios | workloads where the "
                   "(a) and (b) time ranges overlap |")
        out.append("|---|---:|---:|---:|---:|")
        out.extend(rows)
        out.append("")
    return "\n".join(out)


def geomean(xs):
    p = 1.0
    for x in xs:
        p *= x
    return p ** (1.0 / len(xs)) if xs else float("nan")


def machine_notes(pythons, versions, argv, started, finished, load_start,
                  load_end, reps, austin):
    lines = [
        "- command: `%s`" % " ".join(
            shlex.quote(a) for a in [sys.executable] + list(argv)),
        "- date: %s to %s (UTC)" % (started, finished),
        "- machine: %d CPUs (nproc), %s, kernel %s %s" % (
            os.cpu_count() or 0, cpu_model(), platform.system(),
            platform.release()),
        "- load average (1, 5, 15 min) at start: %s; at end: %s" % (
            ", ".join("%.2f" % x for x in load_start),
            ", ".join("%.2f" % x for x in load_end)),
        "- loong: %s, repository at %s" % (loong_version(), git_head()),
        "- repetitions: %d per cell, interleaved" % reps,
        "- austin: %s" % (austin or "not on PATH (column f is n/a)"),
        "- interpreters:",
    ]
    for label, path in pythons:
        lines.append("  - %s: `%s` %s" % (label, path, versions[label]))
    return "\n".join(lines) + "\n"


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S")


def loong_version():
    r = subprocess.run([LOONG, "--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    return r.stdout.strip() or "unknown"


# --------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Wall and CPU time overhead of loong against no "
                    "profiler, "
                    "cProfile, yappi and austin.")
    p.add_argument("--pythons", metavar="LIST",
                   help="comma-separated interpreters: X.Y as tools/"
                        "find-pythons prints them, and 'debian' (or %s) for "
                        "%s; default: all of them" % (DEBIAN_LABEL,
                                                       DEBIAN_PYTHON))
    p.add_argument("--workloads", metavar="LIST",
                   help="comma-separated workloads (default: %s)"
                        % ",".join(WORKLOADS))
    p.add_argument("--columns", metavar="LETTERS",
                   help="only these columns, e.g. 'adhi' (a, the baseline, "
                        "is always run)")
    p.add_argument("-n", "--repeat", type=int, default=5, metavar="N",
                   help="repetitions per cell (default 5)")
    p.add_argument("--quick", action="store_true",
                   help="2 repetitions instead of 5")
    p.add_argument("--markdown", metavar="FILE",
                   help="append the tables, the command line, the date, the "
                        "machine and the interpreter versions to FILE")
    args = p.parse_args(argv)
    if args.quick:
        args.repeat = 2
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv):
    args = parse_args(argv[1:])
    if not os.access(LOONG, os.X_OK):
        die("%s not found: build it first with 'make all'" % LOONG)

    workloads = WORKLOADS
    if args.workloads:
        workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in workloads:
        if not os.path.isfile(os.path.join(WORKLOADS_DIR, w + ".py")):
            die("no workload %s in %s" % (w, WORKLOADS_DIR))

    pythons = select_pythons(find_pythons(), args.pythons)
    if not pythons:
        die("no interpreters found (tools/find-pythons printed nothing)")
    austin = shutil.which("austin")
    versions = {label: python_version(path) for label, path in pythons}
    cols_for = {
        label: applicable_columns(label, minor_of(versions[label]), austin,
                                  label == DEBIAN_LABEL and has_yappi(path))
        for label, path in pythons
    }
    if args.columns:
        keep = set(args.columns) | {"a"}
        unknown = keep - {k for k, _ in COLUMNS}
        if unknown:
            die("unknown columns: %s" % "".join(sorted(unknown)))
        cols_for = {label: [c for c in cols if c in keep]
                    for label, cols in cols_for.items()}
    env = clean_env()

    started = utc_now()
    load_start = os.getloadavg()
    results = {"wall": {}, "cpu": {}}
    checksums = {}  # workload -> (checksum, where it was first seen)

    tmp = tempfile.mkdtemp(prefix="loong-bench-")
    try:
        # Measure private copies of the build and the workloads, taken now:
        # other work on this machine may rebuild build/ or edit the files
        # while the benchmark runs, and one run must measure one thing.
        snap = snapshot(tmp, workloads)
        # One untimed run of every cell first: warms the page cache and the
        # interpreters' .pyc files, and records each workload's checksum.
        plan = []
        for label, path in pythons:
            for w in workloads:
                for col in cols_for[label]:
                    plan.append((label, path, w, col))
        total = len(plan) * (args.repeat + 1)
        done = 0
        for rep in range(-1, args.repeat):
            what = "warm-up" if rep < 0 else "repetition %d/%d" % (
                rep + 1, args.repeat)
            log("bench: %s (%d runs done of %d)" % (what, done, total))
            for label, path in pythons:
                for w in workloads:
                    cols = cols_for[label]
                    # Rotate the column order each repetition so no
                    # configuration always runs first or last.
                    k = (rep + 1) % len(cols)
                    for col in cols[k:] + cols[:k]:
                        measure(results, checksums, tmp, snap, env, austin,
                                versions, rep, label, path, w, col)
                        done += 1
    except BenchError as e:
        die(str(e))
    except subprocess.TimeoutExpired as e:
        die("a run took more than %d s: %s" % (RUN_TIMEOUT, e.cmd))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finished = utc_now()
    load_end = os.getloadavg()

    tables = "\n".join(
        render(results, pythons, cols_for, workloads, args.repeat, kind)
        for kind in ("wall", "cpu"))
    notes = machine_notes(pythons, versions, argv, started, finished,
                          load_start, load_end, args.repeat, austin)
    notes += "- measured copies (sha256, first 12 hex digits): %s\n" % (
        ", ".join("%s.py %s" % (w, snap["digests"][w][:12])
                  for w in workloads))
    notes += "- measured build: %s\n" % ", ".join(
        "%s %s" % (n, d[:12]) for n, d in sorted(snap["built"].items()))
    moved = changed_workloads(snap)
    if moved:
        notes += ("- WARNING: while this ran, bench/workloads/%s changed; "
                  "the figures are for the copies taken at the start "
                  "(digests above)\n" % ", ".join(w + ".py" for w in moved))
    checks = ("Checksums: every run of each workload printed the same "
              "checksum in every column and under every interpreter (%s).\n"
              % ", ".join("%s %s" % (w, checksums[w][0]) for w in workloads))
    sys.stdout.write(tables + "\n" + checks + "\n" + notes)
    sys.stdout.flush()
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("## Run of %s UTC\n\n" % started)
            f.write(tables + "\n" + checks + "\n" + notes + "\n")
        log("bench: appended to %s" % args.markdown)
    return 0


def measure(results, checksums, tmp, snap, env, austin, versions, rep, label,
            path, w, col):
    workload = os.path.join(snap["workloads"], w + ".py")
    outdir = os.path.join(tmp, "out")
    if col in ("b", "c", "g"):
        os.mkdir(outdir)
    argv = command_for(col, path, workload, outdir, austin, snap["loong"],
                       snap["yappi_run"])
    try:
        secs, cpu, out = run_once(argv, env, tmp)
        if col in ("b", "c", "g"):
            check_loong_output(outdir, col, minor_of(versions[label]))
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    where = "%s column %s under %s" % (w, col, label)
    if not out:
        raise BenchError("%s printed no checksum" % where)
    seen = checksums.setdefault(w, (out, where))
    if seen[0] != out:
        raise BenchError("checksum mismatch for %s: %r from %s, but %r from "
                         "%s" % (w, seen[0], seen[1], out, where))
    if rep >= 0:
        results["wall"].setdefault((label, w, col), []).append(secs)
        results["cpu"].setdefault((label, w, col), []).append(cpu)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
