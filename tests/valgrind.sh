#!/usr/bin/env bash
# Run the C unit tests, and profiled Python programs on every CPython found,
# under valgrind (memcheck). Any error reported by valgrind fails.
#   tests/valgrind.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
VG="valgrind -q --error-exitcode=99 --leak-check=no --track-origins=no"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    if $VG "$t" >"$tmp/out" 2>&1; then pass=$((pass + 1)); else
        echo "valgrind: $t failed"; cat "$tmp/out"; fail=$((fail + 1)); fi
done
cc -std=c11 -O1 -fPIC -shared -Iinclude -o "$tmp/probe.so" tests/toolkits/probe.c
# Suppressions from a run WITHOUT loong: what the interpreter itself reports
# (3.11.7 does) is not ours. Cut to the top 4 frames so they match the same
# spot reached through other paths; anything new under loong still fails.
baseline_supp() {
    local py=$1 supp=$2
    PYTHONMALLOC=malloc valgrind -q --gen-suppressions=all \
        --log-file="$tmp/base.log" "$py" tests/programs/threads.py 3 200 \
        >/dev/null 2>&1 || true
    awk '
        /^\{/ { inblk = 1; n = 0; blk = "{\n"; next }
        inblk && /^\}/ { print blk "}"; inblk = 0; next }
        inblk { n++; if (n <= 6) blk = blk $0 "\n" }
    ' "$tmp/base.log" > "$supp"
}

while read -r ver py; do
    supp="$tmp/python$ver.supp"
    baseline_supp "$py" "$supp"
    for case in "threads.py 3 200" "probe_target.py" "forker.py" \
                "threads.py 3 200|function:mode=sample,hz=500"; do
        prog=${case%%|*}
        tks="example;$tmp/probe.so"
        [ "$prog" = "$case" ] || tks=${case#*|}
        rm -rf "$tmp/out.d"
        # pymalloc confuses memcheck: use the system allocator
        if PYTHONMALLOC=malloc LOONG_OUT="$tmp/out.d" \
            PYTHONPATH="$B/lib/loong/python" \
            LOONG_TOOLKITS="$tks" \
            LOONG_TOOLKIT_PATH="$B/lib/loong/toolkits" LOONG_INTERVAL_MS=100 \
            $VG --suppressions="$supp" "$py" tests/programs/$prog >"$tmp/out" 2>&1; then
            pass=$((pass + 1))
        else
            echo "valgrind: $ver $case failed"; cat "$tmp/out"; fail=$((fail + 1))
        fi
    done
done < <(tools/find-pythons)
echo "valgrind: $pass passed, $fail failed"
[ "$fail" = 0 ]
