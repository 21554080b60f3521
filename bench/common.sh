# Shared by bench/bench.sh and bench/instr.sh (sourced from the repository's top folder):
# packages, the release build, a scratch folder whose processes are killed on exit, free
# ports, redis-servers, a single-node config and a 3-rack DC's configs.

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# bench_setup NAME EXTRA_TOOL...: installs redis-server, redis-tools and each missing extra
# Debian package (named as its command), builds dynomited (or takes $DYNOMITED), and makes
# $dir.
bench_setup() {
  local name=$1 missing=()
  shift
  command -v redis-benchmark >/dev/null || missing+=(redis-server redis-tools)
  for t in "$@"; do command -v "$t" >/dev/null || missing+=("$t"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools "${missing[@]}" >/dev/null
  fi
  # DYNOMITED=/path/to/dynomited measures that binary (e.g. another commit's build, for a
  # before/after in one sitting); by default the tree's release build.
  if [ -n "${DYNOMITED:-}" ]; then
    BIN=$DYNOMITED
  else
    cargo build --release -q -p dynomited
    BIN=target/release/dynomited
  fi
  dir=$(mktemp -d "/tmp/dynomite-$name.XXXXXX")
  pids=()
  trap bench_cleanup EXIT INT TERM
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# redis PORT: a redis-server without persistence, logging into $dir.
redis() {
  mkdir -p "$dir/redis-$1"
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning \
    --dir "$dir/redis-$1" --logfile "$dir/redis-$1/log" & pids+=($!)
}

# waitport PORT: until it answers PING (30 s: a node under valgrind starts slowly).
waitport() {
  for _ in $(seq 300); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "port $1 not up" >&2
  exit 1
}

# single_node FILE LISTEN DYN_LISTEN STATS REDIS_PORT: a one-node config.
single_node() {
  cat > "$1" <<YML
dyn_o_mite:
  listen: 127.0.0.1:$2
  dyn_listen: 127.0.0.1:$3
  stats_listen: 127.0.0.1:$4
  tokens: '1383429731'
  servers:
  - 127.0.0.1:$5:1
  data_store: 0
YML
}

# three_racks: a DC of three racks, one node each, all with the same token (every write is
# copied to the two other racks). Starts their redis-servers and writes $dir/rack{0,1,2}.yml;
# client, peer and stats ports in C, P, S, the redis-servers' in RR. Nodes are not started.
# RACK_EXTRA (YAML lines, indented two spaces) is added to each config: e.g. consistency
# levels and read_repairs_enabled, to measure read repair.
three_racks() {
  C=(); P=(); S=(); RR=()
  for i in 0 1 2; do C+=("$(port)"); P+=("$(port)"); S+=("$(port)"); RR+=("$(port)"); redis "${RR[$i]}"; done
  for i in 0 1 2; do
    local seeds="" j
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
${RACK_EXTRA:-}
YML
  done
}

# wait_racks: until the first node of three_racks has both its peers connected.
wait_racks() {
  for p in "${C[@]}" "${RR[@]}"; do waitport "$p"; done
  for _ in $(seq 300); do
    n=$(curl -s "127.0.0.1:${S[0]}/info" 2>/dev/null | grep -o '"peer_connections":[0-9]*' | cut -d: -f2)
    [ "${n:-0}" = 2 ] && return 0
    sleep 0.1
  done
}
