#!/usr/bin/env bash
# Deterministic cost of dynomited per request: user-space instructions and heap allocations,
# counted by valgrind's callgrind, not timed. The figures repeat from run to run whatever else
# the machine is doing, so they compare two commits where throughput on a shared 2-core
# machine cannot (kernel time is not counted here; bench/bench.sh measures it).
#
#   bench/instr.sh [REQUESTS]        (default 100000 requests per case)
#
# One dynomited runs under callgrind in front of its own redis-server; a second case puts it
# in a 3-rack DC (its peers run natively) so every write is also copied to two racks. For each
# case a warm-up run fills the pools and caches, the counters are zeroed, the measured
# redis-benchmark run (-c 50 -d 100 -r 100000) goes through, and the counters are dumped.
# Allocations are calls to malloc/calloc/realloc/aligned allocators; the 50 connections each
# run opens are among them.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
# shellcheck source=bench/common.sh
. bench/common.sh
bench_setup instr valgrind

# Totals of a callgrind dump: "<instructions> <allocations>".
count() {
  python3 - "$1" <<'PY'
import re, sys
names, cur, allocs, total = {}, None, 0, 0
want = {"malloc", "calloc", "realloc", "aligned_alloc", "posix_memalign", "memalign"}
for line in open(sys.argv[1], errors="replace"):
    if line.startswith(("fn=", "cfn=")):
        m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.strip())
        if m and m.group(2):
            names[m.group(1)] = m.group(2)
        cur = names.get(m.group(1)) if (m and line.startswith("cfn=")) else None
    elif line.startswith("calls="):
        if cur in want:
            allocs += int(line.split()[0][len("calls="):])
        cur = None
    elif line.startswith("summary:"):
        total = int(line.split()[1])
print(total, allocs)
PY
}

# measure PID CLIENT_PORT TEST PIPELINE LABEL
measure() {
  local pid=$1 p=$2 t=$3 pl=$4 label=$5
  redis-benchmark -p "$p" -c 50 -d 100 -n 20000 -P "$pl" -t "$t" -r 100000 -q >/dev/null 2>&1
  rm -f "$dir"/cg.out.*
  callgrind_control -z "$pid" >/dev/null 2>&1
  redis-benchmark -p "$p" -c 50 -d 100 -n "$N" -P "$pl" -t "$t" -r 100000 -q >/dev/null 2>&1
  callgrind_control -d "$pid" >/dev/null 2>&1
  local f
  f=$(ls "$dir"/cg.out.*.* | tail -1)
  read -r ir al < <(count "$f")
  # INSTR_KEEP=PREFIX keeps each dump (PREFIX.<n>) for callgrind_annotate.
  if [ -n "${INSTR_KEEP:-}" ]; then kept=$((${kept:-0} + 1)); cp "$f" "$INSTR_KEEP.$kept"; fi
  python3 -c "print(f'%-44s %10.0f %12.4f' % ('$label', $ir/$N, $al/$N))"
}

R=$(port); DY=$(port); DYP=$(port); DYS=$(port)
redis "$R"
single_node "$dir/single.yml" "$DY" "$DYP" "$DYS" "$R"
valgrind -q --tool=callgrind --callgrind-out-file="$dir/cg.out.%p" "$BIN" -c "$dir/single.yml" -v 4 \
  -o "$dir/single.log" & pids+=($!); VG=$!
waitport "$R"; waitport "$DY"
printf '%-44s %10s %12s\n' case "instr/req" "allocs/req"
measure "$VG" "$DY" get 16 "single node, GET -P16"
measure "$VG" "$DY" set 16 "single node, SET -P16"
measure "$VG" "$DY" get 1 "single node, GET -P1"
measure "$VG" "$DY" mset 16 "single node, MSET (10 keys) -P16"
kill "$VG"; wait "$VG" 2>/dev/null || true

# A 3-rack DC, one node per rack; rack1's node (under callgrind) coordinates every write and
# copies it to the other two racks.
three_racks
valgrind -q --tool=callgrind --callgrind-out-file="$dir/cg.out.%p" "$BIN" -c "$dir/rack0.yml" -v 4 \
  -o "$dir/rack0.log" & pids+=($!); VG=$!
for i in 1 2; do $BIN -c "$dir/rack$i.yml" -v 4 -o "$dir/rack$i.log" & pids+=($!); done
wait_racks
measure "$VG" "${C[0]}" set 16 "3-rack DC, SET -P16 (copied to 2 racks)"
measure "$VG" "${C[0]}" get 16 "3-rack DC, GET -P16"
