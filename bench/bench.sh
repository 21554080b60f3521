#!/usr/bin/env bash
# Throughput, proxy CPU per request, p99 latency and idle-connection memory of dynomited,
# measured against plain redis-server and twemproxy (nutcracker) on this machine.
#
#   bench/bench.sh [ROUNDS] [REQUESTS]      (defaults: 3 rounds, 400000 requests per run)
#
# Each proxy sits in front of its own redis-server. Runs are interleaved (redis, twemproxy,
# dynomited, redis, ...) so drift of the machine hits all three alike; the median round is
# reported. twemproxy runs with -v 4 (its default level costs one extra syscall per request).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
N=${2:-400000}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v redis-benchmark >/dev/null || ! command -v nutcracker >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools nutcracker >/dev/null
fi
cargo build --release -q -p dynomited
BIN=target/release/dynomited
dir=$(mktemp -d /tmp/dynomite-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis() {
  mkdir -p "$dir/redis-$1"
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning \
    --dir "$dir/redis-$1" --logfile "$dir/redis-$1/log" & pids+=($!)
}
waitport() { for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }

R1=$(port); R2=$(port); R3=$(port); TW=$(port); DY=$(port); DYS=$(port); DYP=$(port)
redis "$R1"; redis "$R2"; redis "$R3"
cat > "$dir/nutcracker.yml" <<YML
alpha:
  listen: 127.0.0.1:$TW
  hash: murmur
  distribution: ketama
  redis: true
  preconnect: true
  server_connections: 1
  servers:
  - 127.0.0.1:$R2:1
YML
nutcracker -c "$dir/nutcracker.yml" -v 4 -s "$(port)" -o "$dir/nutcracker.log" & pids+=($!); TW_PID=$!
cat > "$dir/dynomite.yml" <<YML
dyn_o_mite:
  listen: 127.0.0.1:$DY
  dyn_listen: 127.0.0.1:$DYP
  stats_listen: 127.0.0.1:$DYS
  tokens: '1383429731'
  servers:
  - 127.0.0.1:$R3:1
  data_store: 0
YML
$BIN -c "$dir/dynomite.yml" -o "$dir/dynomited.log" -v 4 & pids+=($!); DY_PID=$!
for p in $R1 $R2 $R3 $TW $DY; do waitport "$p"; done

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# run TARGET_PORT PIPELINE TEST -> "rps p99_ms"
run() {
  redis-benchmark -p "$1" -c 50 -d 100 -n "$N" -P "$2" -t "$3" -r 100000 --csv -q 2>/dev/null \
    | awk -F'","' 'NR==2 {gsub(/"/,"",$2); gsub(/"/,"",$7); print $2, $7}'
}

declare -A RPS P99 CPU
for P in 1 16; do
  for T in set get; do
    for ((r = 1; r <= ROUNDS; r++)); do
      for name in redis twemproxy dynomited; do
        case $name in redis) p=$R1; pid="";; twemproxy) p=$TW; pid=$TW_PID;; dynomited) p=$DY; pid=$DY_PID;; esac
        t0=0; [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
        read -r rps p99 < <(run "$p" "$P" "$T")
        us=0; [ -n "$pid" ] && us=$(python3 -c "print(round(($(cpu_ticks "$pid")-$t0)*1e6/$HZ/$N, 2))")
        RPS[$name,$P,$T]+="$rps "; P99[$name,$P,$T]+="$p99 "; CPU[$name,$P,$T]+="$us "
      done
    done
  done
done

median() { python3 -c "import statistics,sys; print(statistics.median([float(x) for x in sys.argv[1:]]))" $1; }
printf '\n%-6s %-4s %9s %10s %10s %9s %11s %12s %10s %12s\n' test P redis twemproxy dynomited dyn/twem redis/twem "cpu us/req" "cpu twem/dyn" "p99 ms"
for P in 1 16; do for T in set get; do
  a=$(median "${RPS[redis,$P,$T]}"); b=$(median "${RPS[twemproxy,$P,$T]}"); c=$(median "${RPS[dynomited,$P,$T]}")
  ct=$(median "${CPU[twemproxy,$P,$T]}"); cd=$(median "${CPU[dynomited,$P,$T]}")
  pr=$(median "${P99[redis,$P,$T]}"); pd=$(median "${P99[dynomited,$P,$T]}")
  printf '%-6s -P%-3s %9.0f %10.0f %10.0f %8.2fx %10.2fx %5s/%-5s %11.2fx %5s/%-5s\n' "$T" "$P" "$a" "$b" "$c" \
    "$(python3 -c "print($c/$b)")" "$(python3 -c "print($a/$b)")" "$cd" "$ct" "$(python3 -c "print($ct/$cd)")" "$pd" "$pr"
done; done
echo "(cpu us/req: dynomited/twemproxy; p99 ms: dynomited/redis)"
echo "(redis/twem: plain redis-server's own ratio, the ceiling a proxy sharing this machine's cores"
echo " with redis-benchmark and redis-server can reach; cpu twem/dyn: the ratio where the proxy has"
echo " a core of its own and its CPU per request decides)"

# Replication: a 3-rack DC (one node per rack, DC_ONE), SET through rack1's node at -P 16;
# every write is also sent to the other two racks.
C1=$(port); C2=$(port); C3=$(port); P1=$(port); P2=$(port); P3=$(port); S1=$(port); S2=$(port); S3=$(port)
RR1=$(port); RR2=$(port); RR3=$(port)
redis "$RR1"; redis "$RR2"; redis "$RR3"
for i in 1 2 3; do
  eval "c=\$C$i; p=\$P$i; st=\$S$i; rr=\$RR$i"
  seeds=""
  for j in 1 2 3; do
    [ "$j" = "$i" ] && continue
    eval "pj=\$P$j"
    seeds="$seeds
  - 127.0.0.1:$pj:rack$j:dc1:1383429731"
  done
  cat > "$dir/rack$i.yml" <<YML
dyn_o_mite:
  datacenter: dc1
  rack: rack$i
  listen: 127.0.0.1:$c
  dyn_listen: 127.0.0.1:$p
  stats_listen: 127.0.0.1:$st
  tokens: '1383429731'
  servers:
  - 127.0.0.1:$rr:1
  dyn_seeds:$seeds
YML
done
for i in 1 2 3; do $BIN -c "$dir/rack$i.yml" -o "$dir/rack$i.log" -v 4 & pids+=($!); done
RACK1_PID=${pids[-3]}
for p in $C1 $C2 $C3 $RR1 $RR2 $RR3; do waitport "$p"; done
for _ in $(seq 100); do
  n=$(curl -s "127.0.0.1:$S1/info" 2>/dev/null | grep -o '"peer_connections":[0-9]*' | cut -d: -f2)
  [ "${n:-0}" = 2 ] && break; sleep 0.1
done
t0=$(cpu_ticks "$RACK1_PID")
read -r rps _ < <(run "$C1" 16 set)
us=$(python3 -c "print(round(($(cpu_ticks "$RACK1_PID")-$t0)*1e6/$HZ/$N, 2))")
echo "3-rack DC, SET -P16 through one node (replicated to 3 racks): $rps req/s, coordinator CPU $us us/req"
echo "  (target: 3x Dynomite C's ~34k/s = 102k/s on this machine)"

# Idle connections: RSS growth per connection for 10,000 idle clients.
idle() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time, resource
port, pid = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"): return int(l.split()[1])
before = rss(); socks = []
for i in range(10000):
    s = socket.create_connection(("127.0.0.1", port)); socks.append(s)
time.sleep(1.0)
after = rss()
print(f"{(after-before)/10000:.2f}")
PY
}
ulimit -n 20000 2>/dev/null || true
kill "$DY_PID"; wait "$DY_PID" 2>/dev/null || true
(ulimit -n 20000; exec $BIN -c "$dir/dynomite.yml" -o "$dir/dynomited.log" -v 4) & pids+=($!); DY_PID=$!
waitport "$DY"
echo "idle client memory, KiB per connection (10,000 connections): dynomited $(idle "$DY" "$DY_PID")"
