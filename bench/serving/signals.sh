#!/usr/bin/env bash
# Signals that do not depend on the machine being quiet, for one build: the iris split endpoint (as in run.sh) under
# wrk, /metrics scraped every 5 s, and the server's CPU time (utime + stime from /proc) and managed bytes allocated
# per request; with MODE=counters a System.Runtime counters CSV (GC collections by generation, pause time, thread
# pool, lock contention), with MODE=trace an EventPipe trace (thread-time samples; GC, contention, thread pool and
# wait events). Run builds alternately (a, b, a, b, ...) to compare them.
# usage: bench/serving/signals.sh BUILD_DIR LABEL [plain|counters|trace]   env: CONN (1), DUR (12, seconds), MODEL (iris),
#        TOOLS (folder with dotnet-counters/dotnet-trace: dotnet tool install --tool-path /tmp/dntools dotnet-trace),
#        SERVER_ENV (e.g. "env DOTNET_TieredCompilation=0" for steady CPU from the first request). Output in bench/results/signals/.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=$1; LABEL=$2; MODE=${3:-plain}
CONN=${CONN:-1}; DUR=${DUR:-12}; M=${MODEL:-iris}; TOOLS=${TOOLS:-/tmp/dntools}
FIXTURES=$(cd ../shared/fixtures && pwd); OUT=bench/results/signals; mkdir -p $OUT
WORK=$(mktemp -d /tmp/ballast-signals.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_up() { for _ in $(seq 1 120); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done; echo "no answer at $1" >&2; return 1; }
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
alloc() { curl -s "$1/metrics" | awk '/^system_runtime_dotnet_gc_heap_total_allocated /{print $2; f=1} END{if(!f)print 0}'; }
P=$(free_port); URL=http://127.0.0.1:$P
${SERVER_ENV:-} dotnet $BUILD/ballast.dll server --data-dir "$WORK/data" --listen $URL >"$WORK/ballast.log" 2>&1 & BPID=$!; PIDS+=($BPID)
wait_up "$URL/health"
B="dotnet $BUILD/ballast.dll"
$B models register iris $FIXTURES/logreg_iris.onnx --url $URL >/dev/null
$B models register iris $FIXTURES/logreg_iris.onnx --url $URL >/dev/null
$B models register titanic $FIXTURES/titanic_pipeline.onnx --url $URL >/dev/null
curl -sf -X PUT "$URL/api/v1/endpoints/iris" -H 'Content-Type: application/json' \
  -d '{"variants":[{"name":"a","model":"models:/iris/1","weight":50},{"name":"b","model":"models:/iris/2","weight":50}]}' >/dev/null
$B endpoints create titanic --model models:/titanic/1 --url $URL >/dev/null
(while sleep 5; do curl -s -o /dev/null "$URL/metrics"; done) & PIDS+=($!)
W="wrk -t$(( CONN < 2 ? 1 : 2 )) -c$CONN"
BODY=bench/serving/$M.json TARGET_PATH=/v2/models/$M/infer $W -d5s -s bench/serving/post.lua $URL >/dev/null
case $MODE in
  counters) $TOOLS/dotnet-counters collect -p $BPID --refresh-interval 1 --format csv -o $OUT/$LABEL.counters.csv --counters System.Runtime \
              --duration 00:00:$(printf %02d $((DUR+2))) >/dev/null 2>&1 & CPID=$!; sleep 2;;
  trace) $TOOLS/dotnet-trace collect -p $BPID -o $OUT/$LABEL.nettrace --profile dotnet-sampled-thread-time \
           --providers "Microsoft-Windows-DotNETRuntime:0x40000014001:4" --duration 00:00:00:$(printf %02d $((DUR+2))) >/dev/null 2>&1 & CPID=$!; sleep 2;;
esac
c0=$(cpu $BPID); a0=$(alloc $URL)
BODY=bench/serving/$M.json TARGET_PATH=/v2/models/$M/infer $W -d${DUR}s --latency -s bench/serving/post.lua $URL > $OUT/$LABEL.wrk.txt
c1=$(cpu $BPID); a1=$(alloc $URL)
[ "$MODE" != plain ] && wait $CPID
python3 - $OUT/$LABEL.wrk.txt $c0 $c1 $a0 $a1 "$LABEL" "$(cut -d' ' -f1-3 /proc/loadavg)" $(getconf CLK_TCK) <<'PY'
import re, sys
t = open(sys.argv[1]).read()
n = int(re.search(r"(\d+) requests in", t).group(1)); rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p99 = re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)
cpu_us = (int(sys.argv[3]) - int(sys.argv[2])) * 1e6 / int(sys.argv[8])
print("%-24s rps %6.0f  p99 %8s  cpu_us/req %6.1f  alloc_B/req %7.0f  load %s" % (sys.argv[6], rps, p99, cpu_us / n, (float(sys.argv[5]) - float(sys.argv[4])) / n, sys.argv[7]))
PY
if [ "$MODE" = counters ]; then
python3 - $OUT/$LABEL.counters.csv <<'PY'
import csv, collections, sys
d = collections.defaultdict(float)
for row in list(csv.reader(open(sys.argv[1])))[1:]:
    d[row[2]] += float(row[4])
g = lambda *keys: sum(v for k, v in d.items() if all(key in k for key in keys))
print("  gen0 %d  gen1 %d  gen2 %d  gc pause %.3f s  lock contentions %d" % (g("gc.collections", "=gen0]"), g("gc.collections", "=gen1]"), g("gc.collections", "=gen2]"), g("gc.pause.time"), g("lock_contentions")))
PY
fi
