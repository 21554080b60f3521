#!/usr/bin/env bash
# rolling-restart.sh: restart the nodes of a dynomite-rs cluster one at a time, each drained
# first and back NORMAL and healthy before the next one is touched.
#
# Usage:
#   rolling-restart.sh --restart-cmd CMD [options] NODE...
#
#   NODE                  a node's stats address (stats_listen, HOST:PORT), in restart order
#   --restart-cmd CMD     how to restart one node, run with `bash -c`; every {node} in CMD is
#                         replaced by the NODE being restarted (required). It must return once
#                         the restart is under way (or done); a non-zero exit stops the script.
#   --drain-wait SECONDS  pause between draining a node and restarting it, for the requests in
#                         flight to finish (default 2)
#   --timeout DURATION    how long a restarted node has to be NORMAL and healthy (default 60s)
#   --dynoctl PATH        the dynoctl executable (default: $DYNOCTL, else dynoctl on PATH)
#   --no-precheck         do not require every other listed node to be healthy before a node
#                         is drained
#
# For each NODE, in order:
#   1. (precheck) `dynoctl health` of every other listed node must pass: never take a replica
#      down while another one is already unhealthy;
#   2. `dynoctl state set NODE standby`: the node stops serving (clients of the other nodes
#      are served by the other racks);
#   3. sleep --drain-wait seconds; run the restart command;
#   4. `dynoctl wait NODE --state normal --healthy --timeout DURATION`.
# The first failure stops the script (exit 1) with a message naming the node, the state it
# may be in, and the command that resumes the restart from that node. Exit 2: usage error.
#
# Example, over a local cluster from `dynoctl cluster up` (its node addresses are in the table
# it prints and in DIR/cluster.json):
#
#   dynoctl cluster up --racks 3 --dir /tmp/c
#   nodes=$(jq -r '.nodes[].stats' /tmp/c/cluster.json)   # 127.0.0.1:8103 127.0.0.1:8113 ...
#   dynoctl/examples/rolling-restart.sh \
#       --restart-cmd 'dynoctl cluster restart-node --dir /tmp/c {node}' $nodes
#
# On real hosts the restart command is whatever restarts the daemon there, e.g.
#   --restart-cmd 'ssh "$(echo {node} | cut -d: -f1)" sudo systemctl restart dynomite'
set -euo pipefail

prog=$(basename "$0")
usage() {
  sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

restart_cmd=""
drain_wait=2
timeout=60s
dynoctl=${DYNOCTL:-dynoctl}
precheck=1
nodes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --restart-cmd) [ $# -ge 2 ] || usage; restart_cmd=$2; shift 2 ;;
    --drain-wait) [ $# -ge 2 ] || usage; drain_wait=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --dynoctl) [ $# -ge 2 ] || usage; dynoctl=$2; shift 2 ;;
    --no-precheck) precheck=0; shift ;;
    -h | --help) usage ;;
    --) shift; nodes+=("$@"); break ;;
    -*) say "unknown option $1"; usage ;;
    *) nodes+=("$1"); shift ;;
  esac
done
if [ -z "$restart_cmd" ] || [ ${#nodes[@]} -eq 0 ]; then
  say "give --restart-cmd CMD and at least one NODE"
  usage
fi
case "$drain_wait" in
  '' | *[!0-9.]*) say "--drain-wait takes seconds, e.g. 2 or 0.5"; exit 2 ;;
esac
if ! command -v "$dynoctl" >/dev/null 2>&1; then
  say "cannot run dynoctl ($dynoctl); give --dynoctl PATH or set DYNOCTL"
  exit 2
fi

# The command that resumes the restart from node number $1 (0-based) of the list.
resume_cmd() {
  local cmd
  cmd=$(printf '%q --restart-cmd %q --drain-wait %q --timeout %q --dynoctl %q' \
    "$0" "$restart_cmd" "$drain_wait" "$timeout" "$dynoctl")
  [ "$precheck" -eq 1 ] || cmd+=" --no-precheck"
  cmd+=$(printf ' %q' "${nodes[@]:$1}")
  printf '%s' "$cmd"
}

# Stop: $1 node index, $2 node, $3 what happened and the state the node is in.
stop_at() {
  say "FAILED at $2 (node $(($1 + 1)) of ${#nodes[@]}): $3"
  if [ "$1" -gt 0 ]; then
    say "already restarted: ${nodes[*]:0:$1}"
  fi
  say "when it is fixed, resume from $2 with:"
  printf '  %s\n' "$(resume_cmd "$1")" >&2
  exit 1
}

total=${#nodes[@]}
for i in "${!nodes[@]}"; do
  node=${nodes[$i]}
  say "[$((i + 1))/$total] $node"
  if [ "$precheck" -eq 1 ]; then
    for other in "${nodes[@]}"; do
      [ "$other" = "$node" ] && continue
      if ! "$dynoctl" health "$other" >/dev/null; then
        stop_at "$i" "$node" "$other is not healthy (dynoctl health $other); $node was not touched"
      fi
    done
  fi
  if ! "$dynoctl" state set "$node" standby >/dev/null; then
    stop_at "$i" "$node" "could not drain it (dynoctl state set $node standby); it was not restarted"
  fi
  say "  drained (STANDBY); waiting ${drain_wait}s"
  sleep "$drain_wait"
  cmd=${restart_cmd//\{node\}/$node}
  say "  restarting: $cmd"
  if ! bash -c "$cmd" >&2; then
    stop_at "$i" "$node" "the restart command failed; the node may be down or still in STANDBY (dynoctl state set $node normal puts a running node back)"
  fi
  if ! "$dynoctl" wait "$node" --state normal --healthy --timeout "$timeout" >&2; then
    stop_at "$i" "$node" "restarted but not NORMAL and healthy within $timeout (see dynoctl health $node)"
  fi
done
say "done: restarted ${nodes[*]}"
