#!/usr/bin/env bash
# Build dynomited and dynoctl (release) and start a real local 3-rack cluster on loopback with
# `dynoctl cluster up`: one redis-server and one dynomited per rack. Node i (1..3) listens for
# clients on 81i2 (8102, 8112, 8122), stats/admin HTTP on 81i3, its redis-server on 81i4.
# Installs redis-server when it is missing. Ctrl-C stops the cluster (`dynoctl cluster down`).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi
cargo build --release -p dynomited -p dynoctl -p dynotop

dynoctl=$PWD/target/release/dynoctl
dir=$(mktemp -d /tmp/dynomite-cluster.XXXXXX)
stop() {
  trap - EXIT INT TERM
  [ -z "${sleeper:-}" ] || kill "$sleeper" 2>/dev/null || true
  echo >&2
  if [ -f "$dir/cluster.json" ]; then "$dynoctl" cluster down --dir "$dir" >&2 || true; fi
  rm -rf "$dir"
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

# Prints the nodes (client, stats and redis addresses) once every node is up.
"$dynoctl" cluster up --racks 3 --dir "$dir"
stats=127.0.0.1:8103,127.0.0.1:8113,127.0.0.1:8123
cat >&2 <<MSG

A 3-rack cluster is running (configs and logs in $dir). Every write goes to all three racks:
  redis-cli -p 8102 set hello world     # through node 1 (rack1)
  redis-cli -p 8122 get hello           # through node 3 (rack3)
  redis-cli -p 8124 get hello           # rack3's own redis-server holds the copy
Watch it:
  ./target/release/dynoctl status --nodes $stats
  ./target/release/dynotop --nodes $stats
Rehearse a rolling restart of racks 2 and 3:
  dynoctl/examples/rolling-restart.sh --dynoctl $dynoctl \\
    --restart-cmd '$dynoctl cluster restart-node --dir $dir {node}' 127.0.0.1:8113 127.0.0.1:8123
Ctrl-C stops the cluster.
MSG
while true; do
  sleep 3600 &
  sleeper=$!
  wait "$sleeper" || true
done
