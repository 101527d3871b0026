#!/usr/bin/env bash
# Stops the processes that scripts/cluster-start.sh started, by the pids it wrote under RUN_DIR.
#
# Each process gets SIGTERM (the gateway closes its WebSockets with 1001 and leaves the cluster) and
# SIGKILL if it still runs after STOP_TIMEOUT seconds (default 20). Logs and data directories stay.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
run_dir="${RUN_DIR:-$repo/run/cluster}"
timeout="${STOP_TIMEOUT:-20}"

shopt -s nullglob
pid_files=("$run_dir"/*.pid)
if [ ${#pid_files[@]} -eq 0 ]; then
  echo "No pid files under $run_dir: nothing to stop."
  exit 0
fi

for file in "${pid_files[@]}"; do
  pid="$(cat "$file")"
  kill -TERM "$pid" 2>/dev/null || true
done

for file in "${pid_files[@]}"; do
  pid="$(cat "$file")"
  name="$(basename "$file" .pid)"
  for _ in $(seq 1 $((timeout * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name (pid $pid) still runs after $timeout s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  echo "$name stopped"
done
