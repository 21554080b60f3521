#!/usr/bin/env bash
# The whole test suite, as the README gives it and as CI (.ci/run) runs it.
# Installs what the end-to-end tests need when it is missing: redis-server, redis-tools,
# memcached (Debian packages, apt-get as root or through sudo), redis-py >= 8 and pymemcache
# (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v memcached >/dev/null || need+=(memcached)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! python3 -c 'import redis, sys; sys.exit(int(redis.__version__.split(".")[0]) < 8)' 2>/dev/null; then
  echo "installing: redis-py >= 8" >&2
  python3 -m pip install -q 'redis>=8' 2>/dev/null \
    || python3 -m pip install -q --break-system-packages 'redis>=8'
fi

if ! python3 -c 'import pymemcache' 2>/dev/null; then
  echo "installing: pymemcache" >&2
  python3 -m pip install -q pymemcache 2>/dev/null \
    || python3 -m pip install -q --break-system-packages pymemcache
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --doc -q
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
