#!/usr/bin/env bash
# Build dynomited and start one real node in front of a real redis-server on loopback:
#   clients on 127.0.0.1:8102, stats/admin HTTP on 127.0.0.1:22222, redis-server on 22122.
# Installs redis-server when it is missing. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi
cargo build --release -p dynomited

dir=$(mktemp -d /tmp/dynomite-node.XXXXXX)
redis-server --port 22122 --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --loglevel warning --logfile "$dir/redis.log" &
redis_pid=$!
trap 'kill $redis_pid ${node_pid:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
for _ in $(seq 50); do redis-cli -p 22122 ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "node: clients 127.0.0.1:8102, stats http://127.0.0.1:22222/info, redis 127.0.0.1:22122" >&2
echo "try:  redis-cli -p 8102 set hello world; redis-cli -p 8102 get hello" >&2
cat > "$dir/dynomite.yml" <<YML
dyn_o_mite:
  datacenter: dc1
  rack: rack1
  listen: 127.0.0.1:8102
  dyn_listen: 127.0.0.1:8101
  stats_listen: 127.0.0.1:22222
  tokens: '1383429731'
  servers:
  - 127.0.0.1:22122:1
  data_store: 0
YML
./target/release/dynomited -c "$dir/dynomite.yml" -v 5 &
node_pid=$!
wait $node_pid
