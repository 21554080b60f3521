#!/usr/bin/env bash
# Throughput, proxy CPU per request, p99 latency and idle-connection memory of dynomited,
# measured against plain redis-server and twemproxy (nutcracker) on this machine; and the
# same node's TLS client listener (tls_listen) against its plain one.
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
# shellcheck source=bench/common.sh
. bench/common.sh
bench_setup bench nutcracker openssl

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
single_node "$dir/dynomite.yml" "$DY" "$DYP" "$DYS" "$R3"
# The same node also listens for TLS clients (a CA and a server certificate for 127.0.0.1),
# when the binary measured knows tls_listen (DYNOMITED may be an older build).
DYT=$(port); NAMES="redis twemproxy dynomited"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" \
  -subj /CN=bench-ca -days 2 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/tls.key" -out "$dir/tls.csr" \
  -subj /CN=127.0.0.1 2>/dev/null
printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$dir/tls.ext"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial 1 -days 2 \
  -extfile "$dir/tls.ext" -out "$dir/tls.crt" 2>/dev/null
printf '  tls_listen: 127.0.0.1:%s\n  tls_cert_file: %s\n  tls_key_file: %s\n' "$DYT" "$dir/tls.crt" "$dir/tls.key" \
  > "$dir/tls.yml"
cat "$dir/dynomite.yml" "$dir/tls.yml" > "$dir/with-tls.yml"
if $BIN -t -c "$dir/with-tls.yml" >/dev/null 2>&1; then
  cp "$dir/with-tls.yml" "$dir/dynomite.yml"; NAMES="$NAMES dyn-tls"
fi
$BIN -c "$dir/dynomite.yml" -o "$dir/dynomited.log" -v 4 & pids+=($!); DY_PID=$!
for p in $R1 $R2 $R3 $TW $DY; do waitport "$p"; done

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# run TARGET_PORT PIPELINE TEST [REDIS-BENCHMARK ARGS] -> "rps p99_ms"
run() {
  redis-benchmark -p "$1" -c 50 -d 100 -n "$N" -P "$2" -t "$3" -r 100000 --csv -q "${@:4}" 2>/dev/null \
    | awk -F'","' 'NR==2 {gsub(/"/,"",$2); gsub(/"/,"",$7); print $2, $7}'
}

declare -A RPS P99 CPU
for P in 1 16; do
  for T in set get; do
    for ((r = 1; r <= ROUNDS; r++)); do
      for name in $NAMES; do
        tls=()
        case $name in redis) p=$R1; pid="";; twemproxy) p=$TW; pid=$TW_PID;; dynomited) p=$DY; pid=$DY_PID;;
          dyn-tls) p=$DYT; pid=$DY_PID; tls=(--tls --cacert "$dir/ca.crt");; esac
        t0=0; [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
        read -r rps p99 < <(run "$p" "$P" "$T" "${tls[@]}")
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

# TLS clients: the same node's tls_listen against its plain listen (same rounds, interleaved
# above; redis-benchmark --tls keeps its 50 connections, so this is the data path's cost of
# TLS, not the handshakes').
if [[ " $NAMES " == *" dyn-tls "* ]]; then
  printf '\n%-6s %-4s %10s %10s %9s %14s %12s\n' test P plain tls tls/plain "cpu us/req" "p99 ms"
  for P in 1 16; do for T in set get; do
    a=$(median "${RPS[dynomited,$P,$T]}"); b=$(median "${RPS[dyn-tls,$P,$T]}")
    ca=$(median "${CPU[dynomited,$P,$T]}"); cb=$(median "${CPU[dyn-tls,$P,$T]}")
    pa=$(median "${P99[dynomited,$P,$T]}"); pb=$(median "${P99[dyn-tls,$P,$T]}")
    printf '%-6s -P%-3s %10.0f %10.0f %8.2fx %6s/%-7s %5s/%-5s\n' "$T" "$P" "$a" "$b" "$(python3 -c "print($b/$a)")" "$cb" "$ca" "$pb" "$pa"
  done; done
  echo "(TLS clients through tls_listen vs plain clients through listen, one dynomited; cpu us/req"
  echo " and p99 ms: tls/plain)"
else
  echo "TLS: $BIN has no tls_listen; TLS rows skipped"
fi

# Replication: a 3-rack DC (one node per rack, DC_ONE), SET through rack1's node at -P 16;
# every write is also sent to the other two racks.
three_racks
for i in 0 1 2; do $BIN -c "$dir/rack$i.yml" -o "$dir/rack$i.log" -v 4 & pids+=($!); done
RACK1_PID=${pids[-3]}
wait_racks
t0=$(cpu_ticks "$RACK1_PID")
read -r rps _ < <(run "${C[0]}" 16 set)
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
