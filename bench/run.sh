#!/usr/bin/env bash
# Runs the benchmark: the gateway, nginx, a minimal YARP proxy and a direct
# connection side by side, each in front of the same echo upstream, every case
# against each contender in turn. Results go to bench/results/<time>/ as JSON
# Lines plus a summary; a full run also regenerates docs/BENCHMARKS.md and
# docs/benchmarks.png from them.
#
#   bench/run.sh           full run: three rounds, then connections up to the
#                          open-file limit (17 minutes on a shared 2-core
#                          machine)
#   bench/run.sh --quick   smoke check in about two minutes; writes its page
#                          under bench/results/ and leaves docs/ alone
#
# Needs root for apt-get when nginx or wrk is missing. Sends traffic to
# 127.0.0.1 only.
set -euo pipefail

MODE=full
case "${1:-}" in
  "") ;;
  --quick) MODE=quick ;;
  *) echo "Usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench"
RUN_DIR="$BENCH/results/$(date -u +%Y%m%dT%H%M%SZ)-$MODE"
RESULTS="$RUN_DIR/results.jsonl"
mkdir -p "$RUN_DIR"

# BENCH_PORT_BASE=N puts the gateway on port N, nginx on N+1, YARP on N+2 and
# the echo upstream on N+3, so that a second run (or other work on the usual
# ports) can share the machine. Unset, the ports are 18080, 18081, 18082 and
# 19001.
if [[ -n ${BENCH_PORT_BASE:-} ]]; then
  GATEWAY_PORT=$BENCH_PORT_BASE
  NGINX_PORT=$((BENCH_PORT_BASE + 1))
  YARP_PORT=$((BENCH_PORT_BASE + 2))
  ECHO_PORT=$((BENCH_PORT_BASE + 3))
else
  GATEWAY_PORT=18080
  NGINX_PORT=18081
  YARP_PORT=18082
  ECHO_PORT=19001
fi
CORES="$(nproc)"

# The quick run measures one round of a subset of the cases, briefly: it proves
# that every scenario works, and its figures are not for comparison.
if [[ $MODE == quick ]]; then
  ROUNDS=1; WARMUP=0.5; DURATION=1; LATENCY_SECONDS=1; CONNECT_SECONDS=1; HTTP_SECONDS=1; WARMUP_SECONDS=0.5
  IDLE_COUNTS=(1000); HEAP_CONNECTIONS=500; THROUGHPUT_CONNECTIONS=(64); THROUGHPUT_SIZES=(64 16384)
  FLOOD_SECONDS=2
else
  ROUNDS=3; WARMUP=1; DURATION=4; LATENCY_SECONDS=10; CONNECT_SECONDS=5; HTTP_SECONDS=5; WARMUP_SECONDS=3
  IDLE_COUNTS=(1000 8000); HEAP_CONNECTIONS=2000; THROUGHPUT_CONNECTIONS=(1 64 1024); THROUGHPUT_SIZES=(64 16384)
  FLOOD_SECONDS=10
fi
LATENCY_CONNECTIONS=16
LATENCY_RATE=2000
CONNECT_WORKERS=16
HTTP_CONNECTIONS=64
FLOOD_CONNECTIONS=64
# Opening and closing 9,900 connections took 14 to 26 s per proxy in a trial
# on a 2-core machine, so this timeout only bounds a proxy that stalls.
MAX_CONNECTIONS_TIMEOUT=600

log() { echo "[$(date -u +%H:%M:%S)] $*"; }

# 1. Tools: nginx and wrk from the system's packages.
missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]} > 0)); then
  log "Installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. Descriptor limit. Each proxied connection takes two descriptors in the
#    proxy and one in the load generator. A case beyond the limit is skipped
#    with a message rather than failing halfway.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FILE_LIMIT="$(ulimit -n)"
for count in "${IDLE_COUNTS[@]}"; do
  if ((2 * count + 200 > FILE_LIMIT)); then
    log "The process file limit is $FILE_LIMIT: $count idle proxied connections need about $((2 * count + 200)) descriptors in the proxy, so that case will be skipped."
  fi
done

# 3. Release builds, side by side: the three projects share no project
#    reference, and an up-to-date build is mostly the build tool's start-up.
log "Building the gateway, YARP and the load generator (Release)"
build() { dotnet build -c Release -v q -nologo "$1" >"$RUN_DIR/build-$2.log" 2>&1 || { echo "Building $1 failed; see $RUN_DIR/build-$2.log." >&2; return 1; }; }
build "$ROOT/Gateway.Host/Gateway.Host.csproj" gateway & BUILD_GATEWAY=$!
build "$BENCH/Gateway.Bench/Gateway.Bench.csproj" bench & BUILD_BENCH=$!
build "$BENCH/YarpProxy/YarpProxy.csproj" yarp & BUILD_YARP=$!
wait "$BUILD_GATEWAY"
wait "$BUILD_BENCH"
wait "$BUILD_YARP"
HOST_DLL="$ROOT/Gateway.Host/bin/Release/net10.0/Gateway.Host.dll"
BENCH_DLL="$BENCH/Gateway.Bench/bin/Release/net10.0/Gateway.Bench.dll"
YARP_DLL="$BENCH/YarpProxy/bin/Release/net10.0/YarpProxy.dll"

# 4. Processes: the echo upstream, the gateway, nginx and YARP. Only the
#    processes started here are stopped on exit.
PIDS=()
NGINX_DIR="$RUN_DIR/nginx"
cleanup() {
  if [[ -f "$NGINX_DIR/nginx.pid" ]]; then
    nginx -p "$NGINX_DIR" -c nginx.conf -s quit 2>/dev/null || true
  fi
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_for_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "Nothing listens on 127.0.0.1:$1 after 10 s; see the logs in $RUN_DIR." >&2
  exit 1
}

export GATEWAY_LOG_LEVEL=warning
log "Starting the echo upstream on $ECHO_PORT"
dotnet "$HOST_DLL" echo --host 127.0.0.1 --port "$ECHO_PORT" >"$RUN_DIR/echo.log" 2>&1 &
ECHO_PID=$!
PIDS+=("$ECHO_PID")
wait_for_port "$ECHO_PORT"

log "Starting the gateway on $GATEWAY_PORT"
# From the run's folder, so that the gateway's data directory (./data by
# default) lands there. gateway-bench.conf reads both variables.
export BENCH_GATEWAY_PORT="$GATEWAY_PORT" BENCH_ECHO_URL="ws://127.0.0.1:$ECHO_PORT/"
(cd "$RUN_DIR" && exec dotnet "$HOST_DLL" --config "$BENCH/gateway-bench.conf" >"$RUN_DIR/gateway.log" 2>&1) &
GATEWAY_PID=$!
PIDS+=("$GATEWAY_PID")
wait_for_port "$GATEWAY_PORT"

log "Starting nginx on $NGINX_PORT with $CORES workers"
mkdir -p "$NGINX_DIR/logs"
cat >"$NGINX_DIR/nginx.conf" <<NGINX
worker_processes $CORES;
worker_rlimit_nofile $FILE_LIMIT;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log warn;

events {
  worker_connections $FILE_LIMIT;
}

http {
  access_log off;
  client_body_temp_path $NGINX_DIR/client_body;
  proxy_temp_path $NGINX_DIR/proxy;
  fastcgi_temp_path $NGINX_DIR/fastcgi;
  uwsgi_temp_path $NGINX_DIR/uwsgi;
  scgi_temp_path $NGINX_DIR/scgi;

  # An upgrade request gets 'Connection: upgrade'; any other request an empty
  # Connection header, so the upstream connection stays open for reuse.
  map \$http_upgrade \$connection_upgrade {
    default upgrade;
    ''      '';
  }

  upstream echo_upstream {
    server 127.0.0.1:$ECHO_PORT;
    keepalive 64;
  }

  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;

    location /echo/ {
      proxy_pass http://echo_upstream/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
NGINX
nginx -p "$NGINX_DIR" -c nginx.conf -e "$NGINX_DIR/logs/error.log"
wait_for_port "$NGINX_PORT"
NGINX_MASTER="$(cat "$NGINX_DIR/nginx.pid")"
NGINX_PIDS="$(echo "$NGINX_MASTER" $(pgrep -P "$NGINX_MASTER") | tr ' ' ',')"

log "Starting YARP on $YARP_PORT"
dotnet "$YARP_DLL" --port "$YARP_PORT" --upstream "http://127.0.0.1:$ECHO_PORT/" >"$RUN_DIR/yarp.log" 2>&1 &
YARP_PID=$!
PIDS+=("$YARP_PID")
wait_for_port "$YARP_PORT"

# 5. Facts about the machine for the results page.
commit="$(git -C "$ROOT" rev-parse --short HEAD)"
if [[ -n "$(git -C "$ROOT" status --porcelain -- Gateway.Actors Gateway.Host)" ]]; then
  commit="$commit with uncommitted changes"
fi
cat >"$RUN_DIR/machine.json" <<JSON
{
  "cpu": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)",
  "nproc": "$CORES",
  "memory": "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)",
  "kernel": "$(uname -r)",
  "dotnet": "$(dotnet --version)",
  "nginx": "$(nginx -v 2>&1 | sed 's/^nginx version: //')",
  "yarp": "$(sed -n 's/.*Include="Yarp.ReverseProxy" Version="\([^"]*\)".*/\1/p' "$BENCH/YarpProxy/YarpProxy.csproj")",
  "wrk": "$(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')",
  "commit": "$commit",
  "date": "$(date -u +%Y-%m-%dT%H:%MZ)",
  "mode": "$MODE",
  "load": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "rounds": "$ROUNDS",
  "throughput": "1, 64 and 1,024 connections, 64 B and 16 KiB binary messages, ${WARMUP} s warm-up then ${DURATION} s measured",
  "latency": "$LATENCY_CONNECTIONS connections, $LATENCY_RATE messages/s in all, 64 B, ${WARMUP} s warm-up then ${LATENCY_SECONDS} s measured",
  "connect": "$CONNECT_WORKERS workers each opening connections one after another, ${WARMUP} s warm-up then ${CONNECT_SECONDS} s measured",
  "memory-method": "$(IFS=,; echo "${IDLE_COUNTS[*]}" | sed 's/,/ and /') connections, read 3 s after the last one opened, on proxies that have served only a warm-up; each case counts growth from the resident set before the first case",
  "http": "wrk, 2 threads, $HTTP_CONNECTIONS keep-alive connections, ${HTTP_SECONDS} s, GET of the echo upstream's JSON description of the request (about 300 bytes)",
  "flood": "$FLOOD_CONNECTIONS connections that read nothing for ${FLOOD_SECONDS} s, on proxies that have served only the idle-memory and heap-snapshot cases",
  "max-connections": "$( [[ $MODE == full ]] && echo "gateway, nginx and yarp, once each after the last round; the count is the proxy's soft open-file limit less a reserve, halved (two descriptors per proxied connection), and at most the load generator's and the echo upstream's limits less theirs; a reserve is the descriptors the process has open before the case plus 64, and at least 200" || echo "not run in quick mode")"
}
JSON

bench() { dotnet "$BENCH_DLL" "$@" --out "$RESULTS"; }
declare -A URL=(
  [direct]="ws://127.0.0.1:$ECHO_PORT/"
  [gateway]="ws://127.0.0.1:$GATEWAY_PORT/echo/"
  [nginx]="ws://127.0.0.1:$NGINX_PORT/echo/"
  [yarp]="ws://127.0.0.1:$YARP_PORT/echo/"
)
declare -A HTTP_URL=(
  [direct]="http://127.0.0.1:$ECHO_PORT/small"
  [gateway]="http://127.0.0.1:$GATEWAY_PORT/echo/small"
  [nginx]="http://127.0.0.1:$NGINX_PORT/echo/small"
  [yarp]="http://127.0.0.1:$YARP_PORT/echo/small"
)
CONTENDERS=(direct gateway nginx yarp)
PROXIES=(gateway nginx yarp)
declare -A PROXY_PIDS=([gateway]="$GATEWAY_PID" [nginx]="$NGINX_PIDS" [yarp]="$YARP_PID")

# 6. Idle memory first, while the proxies have only served a short warm-up, so
#    that buffers pooled by earlier cases do not hide the cost of a connection.
for contender in "${PROXIES[@]}"; do
  dotnet "$BENCH_DLL" connect-rate --url "${URL[$contender]}" --contender "$contender" --round 0 \
    --workers 8 --warmup 0 --duration 1 --out "$RUN_DIR/warmup.jsonl" >/dev/null
done
# Every case counts growth from the resident set before the first one, because
# a .NET proxy keeps the heap an earlier case's connections used.
resident_kib() {
  local total=0 pid
  for pid in ${1//,/ }; do
    total=$((total + $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")))
  done
  echo "$total"
}
declare -A START_KIB
for contender in "${PROXIES[@]}"; do
  START_KIB[$contender]="$(resident_kib "${PROXY_PIDS[$contender]}")"
done
for count in "${IDLE_COUNTS[@]}"; do
  log "Idle memory, $count connections"
  for contender in "${PROXIES[@]}"; do
    bench idle-memory --url "${URL[$contender]}" --contender "$contender" --connections "$count" \
      --pids "${PROXY_PIDS[$contender]}" --start-kib "${START_KIB[$contender]}"
  done
done

# 6b. Where the gateway's idle memory goes: heap snapshots before and after
#     opening idle connections. dotnet-gcdump is a .NET tool from NuGet; without
#     it the step is skipped. Snapshots force full collections, so this runs
#     after the RSS measurements.
GCDUMP="$(command -v dotnet-gcdump || echo "$HOME/.dotnet/tools/dotnet-gcdump")"
if [[ ! -x $GCDUMP ]]; then
  dotnet tool install -g dotnet-gcdump --version 10.0.750501 >/dev/null 2>&1 || true
fi
if [[ -x $GCDUMP ]]; then
  log "Heap snapshots of the gateway, $HEAP_CONNECTIONS idle connections"
  mkdir -p "$RUN_DIR/dumps"
  bench heap --url "${URL[gateway]}" --contender gateway --connections "$HEAP_CONNECTIONS" --pid "$GATEWAY_PID" \
    --gcdump "$GCDUMP" --dumps "$RUN_DIR/dumps" >/dev/null
else
  log "dotnet-gcdump did not install, so the heap breakdown is skipped."
fi

# 6c. Flood: a client that stops reading while its upstream floods, also before
#     the warm-up so that buffers pooled by the throughput cases do not absorb
#     what the flood costs.
log "Flood, $FLOOD_CONNECTIONS connections not reading for $FLOOD_SECONDS s"
for contender in "${PROXIES[@]}"; do
  bench flood --url "${URL[$contender]}flood" --contender "$contender" --connections "$FLOOD_CONNECTIONS" \
    --pids "${PROXY_PIDS[$contender]}" --duration "$FLOOD_SECONDS" >/dev/null
  # The echo upstream winds down the flood loops of the closed connections
  # before the next contender connects; without this pause YARP returned 504.
  sleep 3
done

# 7. Warm-up: every contender runs every kind of case once, unrecorded. The
#    .NET processes (the gateway, and the echo upstream behind every contender)
#    are then measured after tiered compilation has settled on the paths the
#    cases use, not while the JIT still competes for the cores.
log "Warm-up"
for contender in "${CONTENDERS[@]}"; do
  warm() { dotnet "$BENCH_DLL" "$@" --contender "$contender" --round 0 --warmup 0 --out "$RUN_DIR/warmup.jsonl" >/dev/null; }
  warm throughput --url "${URL[$contender]}" --connections 64 --size 64 --duration "$WARMUP_SECONDS"
  warm throughput --url "${URL[$contender]}" --connections 64 --size 16384 --duration "$WARMUP_SECONDS"
  warm connect-rate --url "${URL[$contender]}" --workers "$CONNECT_WORKERS" --duration "$WARMUP_SECONDS"
  warm http --url "${HTTP_URL[$contender]}" --connections "$HTTP_CONNECTIONS" --threads 2 --duration "$WARMUP_SECONDS"
done

# 8. The rest, round by round, each case against every contender in turn.
for round in $(seq 1 "$ROUNDS"); do
  for connections in "${THROUGHPUT_CONNECTIONS[@]}"; do
    for size in "${THROUGHPUT_SIZES[@]}"; do
      log "Round $round: throughput, $connections connections, $size B"
      for contender in "${CONTENDERS[@]}"; do
        bench throughput --url "${URL[$contender]}" --contender "$contender" --round "$round" \
          --connections "$connections" --size "$size" --warmup "$WARMUP" --duration "$DURATION" >/dev/null
      done
    done
  done

  log "Round $round: latency at $LATENCY_RATE messages/s"
  for contender in "${CONTENDERS[@]}"; do
    bench latency --url "${URL[$contender]}" --contender "$contender" --round "$round" \
      --connections "$LATENCY_CONNECTIONS" --rate "$LATENCY_RATE" --size 64 --warmup "$WARMUP" --duration "$LATENCY_SECONDS" >/dev/null
  done

  log "Round $round: new connections per second"
  for contender in "${CONTENDERS[@]}"; do
    bench connect-rate --url "${URL[$contender]}" --contender "$contender" --round "$round" \
      --workers "$CONNECT_WORKERS" --warmup "$WARMUP" --duration "$CONNECT_SECONDS" >/dev/null
  done

  log "Round $round: HTTP requests per second"
  for contender in "${CONTENDERS[@]}"; do
    bench http --url "${HTTP_URL[$contender]}" --contender "$contender" --round "$round" \
      --connections "$HTTP_CONNECTIONS" --threads 2 --duration "$HTTP_SECONDS" >/dev/null
  done
done

# 8b. Connections up to the open-file limit, in the full run only, because it
#     takes up to half a minute per proxy. It comes last, so that no other case
#     runs next to thousands of closing sockets.
if [[ $MODE == full ]]; then
  for contender in "${PROXIES[@]}"; do
    log "Connections up to the open-file limit through $contender"
    bench max-connections --url "${URL[$contender]}" --contender "$contender" --pids "${PROXY_PIDS[$contender]}" \
      --upstream-pid "$ECHO_PID" --timeout "$MAX_CONNECTIONS_TIMEOUT" >/dev/null
  done
fi

# 9. The page and the chart, from the JSON alone.
if [[ $MODE == full ]]; then
  PAGE="$ROOT/docs/BENCHMARKS.md"
  CHART="$ROOT/docs/benchmarks.png"
  mkdir -p "$ROOT/docs"
else
  PAGE="$RUN_DIR/BENCHMARKS.md"
  CHART="$RUN_DIR/benchmarks.png"
fi
# The load average at the end shows whether other work shared the cores.
sed -i "s|\"load\": \"\([^\"]*\)\"|\"load\": \"\1 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end\"|" "$RUN_DIR/machine.json"
dotnet "$BENCH_DLL" report --results "$RESULTS" --machine "$RUN_DIR/machine.json" --summary "$RUN_DIR/summary.json" \
  --baselines "$BENCH/baselines" --page "$PAGE" --chart "$CHART"
log "Done: results in $RUN_DIR"
