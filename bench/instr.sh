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
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v redis-benchmark >/dev/null || ! command -v valgrind >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools valgrind >/dev/null
fi
cargo build --release -q -p dynomited
BIN=target/release/dynomited
dir=$(mktemp -d /tmp/dynomite-instr.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis() {
  mkdir -p "$dir/redis-$1"
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning \
    --dir "$dir/redis-$1" --logfile "$dir/redis-$1/log" & pids+=($!)
}
waitport() { for _ in $(seq 300); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }

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
  python3 -c "print(f'%-44s %10.0f %12.4f' % ('$label', $ir/$N, $al/$N))"
}

R=$(port); DY=$(port); DYP=$(port); DYS=$(port)
redis "$R"
cat > "$dir/single.yml" <<YML
dyn_o_mite:
  listen: 127.0.0.1:$DY
  dyn_listen: 127.0.0.1:$DYP
  stats_listen: 127.0.0.1:$DYS
  tokens: '1383429731'
  servers:
  - 127.0.0.1:$R:1
  data_store: 0
YML
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
C=(); P=(); S=(); RR=()
for i in 0 1 2; do C+=("$(port)"); P+=("$(port)"); S+=("$(port)"); RR+=("$(port)"); redis "${RR[$i]}"; done
for i in 0 1 2; do
  seeds=""
  for j in 0 1 2; do
    [ "$j" = "$i" ] && continue
    seeds="$seeds
  - 127.0.0.1:${P[$j]}:rack$((j + 1)):dc1:1383429731"
  done
  cat > "$dir/rack$i.yml" <<YML
dyn_o_mite:
  datacenter: dc1
  rack: rack$((i + 1))
  listen: 127.0.0.1:${C[$i]}
  dyn_listen: 127.0.0.1:${P[$i]}
  stats_listen: 127.0.0.1:${S[$i]}
  tokens: '1383429731'
  servers:
  - 127.0.0.1:${RR[$i]}:1
  dyn_seeds:$seeds
YML
done
valgrind -q --tool=callgrind --callgrind-out-file="$dir/cg.out.%p" "$BIN" -c "$dir/rack0.yml" -v 4 \
  -o "$dir/rack0.log" & pids+=($!); VG=$!
for i in 1 2; do $BIN -c "$dir/rack$i.yml" -v 4 -o "$dir/rack$i.log" & pids+=($!); done
for p in "${C[@]}" "${RR[@]}"; do waitport "$p"; done
for _ in $(seq 300); do
  n=$(curl -s "127.0.0.1:${S[0]}/info" 2>/dev/null | grep -o '"peer_connections":[0-9]*' | cut -d: -f2)
  [ "${n:-0}" = 2 ] && break; sleep 0.1
done
measure "$VG" "${C[0]}" set 16 "3-rack DC, SET -P16 (copied to 2 racks)"
measure "$VG" "${C[0]}" get 16 "3-rack DC, GET -P16"
