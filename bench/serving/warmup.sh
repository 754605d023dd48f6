#!/usr/bin/env bash
# Warm-up on one processor: Ballast's rps at peak load (the iris split endpoint, batching, prediction log on, /metrics
# scraped every 5 s) in consecutive slices from its first request, pinned to core 0 (wrk on the others), with the
# runtime's default tier-up delay (the baseline) and with DOTNET_TC_DelaySingleProcMultiplier=1 (as the image sets),
# in alternating rounds, each on a fresh server and data folder. A process that sees one processor (taskset, or a
# container limited to one CPU) waits 1 s instead of 100 ms before it counts calls for tier 1, and each method compiled
# at tier 0 meanwhile starts the wait again. Writes bench/results/serving-warmup.md.
# usage: bench/serving/warmup.sh   env: ROUNDS (2), SLICES (16), SLICE (5, seconds), CONNECTIONS (32)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-2}; SLICES=${SLICES:-16}; SLICE=${SLICE:-5}; CONNECTIONS=${CONNECTIONS:-32}
FIXTURES=$(cd ../shared/fixtures && pwd)
WORK=$(mktemp -d /tmp/ballast-bench-warmup.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
dotnet build -c Release src/Ballast.Cli -v quiet -nologo >/dev/null
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_up() { for _ in $(seq 1 120); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done; echo "no answer at $1" >&2; return 1; }
BALLAST="dotnet src/Ballast.Cli/bin/Release/net10.0/ballast.dll"

# One server from its start: "rps of each slice | seconds to 80% of the best slice | methods compiled at the end".
ramp() { # multiplier ("" for the runtime's default)
  local port url pid data out="" start best
  port=$(free_port); url="http://127.0.0.1:$port"; data="$WORK/data-$RANDOM"
  if [ -n "$1" ]; then
    env DOTNET_TC_DelaySingleProcMultiplier="$1" taskset -c 0 $BALLAST server --data-dir "$data" --listen "$url" >"$WORK/ballast.log" 2>&1 &
  else
    taskset -c 0 $BALLAST server --data-dir "$data" --listen "$url" >"$WORK/ballast.log" 2>&1 &
  fi
  pid=$!; PIDS+=($pid)
  wait_up "$url/health"
  $BALLAST models register iris "$FIXTURES/logreg_iris.onnx" --url "$url" >/dev/null
  $BALLAST models register iris "$FIXTURES/logreg_iris.onnx" --url "$url" >/dev/null
  curl -sf -X PUT "$url/api/v1/endpoints/iris" -H 'Content-Type: application/json' \
    -d '{"variants":[{"name":"a","model":"models:/iris/1","weight":50},{"name":"b","model":"models:/iris/2","weight":50}],"batching":{"max_batch_size":32,"max_delay_ms":0}}' >/dev/null
  (while sleep 5; do curl -s -o /dev/null "$url/metrics"; done) &
  local scraper=$!
  for _ in $(seq 1 "$SLICES"); do
    out+=" $(BODY=bench/serving/iris.json TARGET_PATH=/v2/models/iris/infer taskset -c "1-$(( $(nproc) - 1 ))" \
      wrk -t2 -c"$CONNECTIONS" -d"${SLICE}s" -s bench/serving/post.lua "$url" | awk '/Requests\/sec/ {print int($2)}')"
  done
  local methods
  methods=$(curl -s "$url/metrics" | awk '/^system_runtime_dotnet_jit_compiled_methods / {print $2}')
  kill "$scraper" "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$data"
  python3 - "$SLICE" "$methods" $out <<'PY'
import sys
slice_s, methods, rps = int(sys.argv[1]), sys.argv[2], [int(x) for x in sys.argv[3:]]
best = max(rps)
first = next(i for i, r in enumerate(rps) if r >= 0.8 * best)
print("%s | %d | %d | %s" % (" ".join(map(str, rps)), best, (first + 1) * slice_s, methods))
PY
}

ROWS=""
for round in $(seq 1 "$ROUNDS"); do
  ROWS+="| $round | default (x10 on one processor) | $(ramp "") |"$'\n'
  ROWS+="| $round | DOTNET_TC_DelaySingleProcMultiplier=1 | $(ramp 1) |"$'\n'
done

mkdir -p bench/results
cat > bench/results/serving-warmup.md <<MD
# Warm-up on one processor ($(date -u +%Y-%m-%d), $(nproc) cores, Ballast on core 0, wrk on the others)

Ballast's rps at peak load (${CONNECTIONS} connections, the iris split endpoint batching, prediction log and metrics on)
in consecutive ${SLICE} s slices from its first request, each row a fresh server. "Seconds to 80%" is the end of the
first slice at 80% of the row's best; "methods" is \`system_runtime_dotnet_jit_compiled_methods\` at the end.

| round | tier-up delay | rps per ${SLICE} s slice | best | seconds to 80% | methods |
| ---: | --- | --- | ---: | ---: | ---: |
${ROWS}
MD
cat bench/results/serving-warmup.md
