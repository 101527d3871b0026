#!/usr/bin/env bash
# Starts a three-node gateway cluster and the echo upstream on loopback, without Docker.
#
# Builds Gateway.Host in Release, writes one configuration per node and starts every process in the
# background. Configurations, logs, pids and data directories go under RUN_DIR (default:
# run/cluster in the repository). Stop them with scripts/cluster-stop.sh.
#
# Ports (override through the environment):
#   client listeners  CLIENT_PORT_BASE + 1..3   (default 8081, 8082, 8083)
#   admin listeners   ADMIN_PORT_BASE + 1..3    (default 9697, 9698, 9699)
#   Akka.Remote       CLUSTER_PORT_BASE + 1..3  (default 4054, 4055, 4056)
#   echo upstream     ECHO_PORT                 (default 9001)
# The admin secret is GATEWAY_ADMIN_SECRET when set.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
run_dir="${RUN_DIR:-$repo/run/cluster}"
client_base="${CLIENT_PORT_BASE:-8080}"
admin_base="${ADMIN_PORT_BASE:-9696}"
cluster_base="${CLUSTER_PORT_BASE:-4053}"
echo_port="${ECHO_PORT:-9001}"
nodes=3

if compgen -G "$run_dir/*.pid" >/dev/null; then
  echo "A cluster already runs from $run_dir (pid files exist); stop it with scripts/cluster-stop.sh first." >&2
  exit 1
fi

mkdir -p "$run_dir"
echo "Building Gateway.Host (Release)..."
dotnet build "$repo/Gateway.Host/Gateway.Host.csproj" -c Release -o "$run_dir/bin" -v quiet -nologo >"$run_dir/build.log" 2>&1 \
  || { echo "The build failed; see $run_dir/build.log" >&2; exit 1; }
host_dll="$run_dir/bin/Gateway.Host.dll"

# HOCON needs commas here: strings separated only by spaces are joined into one string.
seeds=""
for i in $(seq 1 $nodes); do
  seeds="$seeds${seeds:+,} \"127.0.0.1:$((cluster_base + i))\""
done

start() {
  local name="$1"
  shift
  nohup dotnet "$host_dll" "$@" >"$run_dir/$name.log" 2>&1 &
  echo $! >"$run_dir/$name.pid"
}

start echo echo --host 127.0.0.1 --port "$echo_port"

for i in $(seq 1 $nodes); do
  cat >"$run_dir/node-$i.conf" <<CONF
gateway {
  listen = [ { host = "127.0.0.1", port = $((client_base + i)) } ]
  admin {
    host = "127.0.0.1"
    port = $((admin_base + i))
    secret = "${GATEWAY_ADMIN_SECRET:-}"
  }
  data-directory = "$run_dir/node-$i-data"
  cluster {
    enabled = on
    hostname = "127.0.0.1"
    port = $((cluster_base + i))
    seed-nodes = [$seeds ]
  }
  apis {
    echo {
      listen-path = "/echo/"
      target-url = "ws://127.0.0.1:$echo_port/"
    }
  }
}
CONF
  start "node-$i" --config "$run_dir/node-$i.conf"
done

# Wait until every node answers GET /hello, for at most 60 seconds.
for i in $(seq 1 $nodes); do
  port=$((client_base + i))
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/hello" >/dev/null 2>&1; then
      echo "node-$i is up: ws://127.0.0.1:$port/echo/ (admin http://127.0.0.1:$((admin_base + i))/admin/, log $run_dir/node-$i.log)"
      continue 2
    fi
    if ! kill -0 "$(cat "$run_dir/node-$i.pid")" 2>/dev/null; then
      echo "node-$i exited; its log is $run_dir/node-$i.log:" >&2
      tail -20 "$run_dir/node-$i.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "node-$i did not answer GET /hello within 60 s; see $run_dir/node-$i.log" >&2
  exit 1
done
