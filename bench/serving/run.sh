#!/usr/bin/env bash
# Serving load test: wrk against Ballast (iris on a split endpoint of two variants, titanic and loans on one each;
# prediction log and metrics on, as in production) and, in the same run, against a bare ASP.NET Core app calling the
# same ONNX Runtime session (bench/ServingBaseline). loans is the 10-input mixed string/float pipeline that
# bench/MixedModel trains (seeded) and exports to ONNX at the start. Writes bench/results/serving.md. MODELS (default
# "iris titanic loans"), DURATION, CONNECTIONS, ROUNDS (peak rounds), HALF_ROUNDS, WARMUP and ARRIVALS (poisson or
# fixed, at half load; bench/serving/post.lua) tune the run; HALF_ROUNDS=0 skips the half loads (a sustained peak:
# DURATION=60s ROUNDS=3 HALF_ROUNDS=0). PIN=1 gives the servers (and Ballast's conversions) core 0
# and wrk the others, so that the two never share a core (taskset; the servers then see one processor).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-5}
HALF_ROUNDS=${HALF_ROUNDS:-3}
MODELS=${MODELS:-iris titanic loans}
export ARRIVALS=${ARRIVALS:-poisson}
# Tiered JIT takes a while to settle under peak load: Ballast's hot code reaches tier 1 15-25 s in, the baseline's
# sooner. 60 s of warm-up measures both in their steady state; the results say how many methods Ballast's JIT compiled
# during the peak rounds.
WARMUP=${WARMUP:-60s}
PIN=${PIN:-0}
SERVER_ON=()
WRK_ON=()
if [ "$PIN" = 1 ]; then
  # A process that sees one processor waits 10x longer (1 s) before it counts calls for tier 1, and each method compiled
  # at tier 0 in that second starts the wait again: pinned, Ballast reached its steady rps only after ~50 s of peak load
  # and was still running instrumented (tier-1 PGO) code in its first rounds. The multiplier at 1 gives both servers the
  # tiering they get on several cores (bench/results/serving.md, 2026-12-07).
  SERVER_ON=(env DOTNET_TC_DelaySingleProcMultiplier=1 taskset -c 0)
  WRK_ON=(taskset -c "1-$(( $(nproc) - 1 ))")
fi
FIXTURES=$(cd ../shared/fixtures && pwd)
WORK=$(mktemp -d /tmp/ballast-bench-serving.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
fi

dotnet build -c Release src/Ballast.Cli -v quiet -nologo >/dev/null
dotnet build -c Release bench/ServingBaseline -v quiet -nologo >/dev/null
dotnet build -c Release bench/MixedModel -v quiet -nologo >/dev/null
dotnet bench/MixedModel/bin/Release/net10.0/MixedModel.dll "$WORK/loans.onnx" >/dev/null
declare -A FILE=([iris]="$FIXTURES/logreg_iris.onnx" [titanic]="$FIXTURES/titanic_pipeline.onnx" [loans]="$WORK/loans.onnx")
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_up() { for _ in $(seq 1 60); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done; echo "no answer at $1" >&2; return 1; }

BALLAST_PORT=$(free_port)
"${SERVER_ON[@]}" dotnet src/Ballast.Cli/bin/Release/net10.0/ballast.dll server --data-dir "$WORK/data" --listen "http://127.0.0.1:$BALLAST_PORT" >"$WORK/ballast.log" 2>&1 &
PIDS+=($!)
declare -A PID=([ballast]=$!)
wait_up "http://127.0.0.1:$BALLAST_PORT/health"
URL="http://127.0.0.1:$BALLAST_PORT"
BALLAST="dotnet src/Ballast.Cli/bin/Release/net10.0/ballast.dll"
$BALLAST models register iris "${FILE[iris]}" --url "$URL" >/dev/null
$BALLAST models register iris "${FILE[iris]}" --url "$URL" >/dev/null
# Both endpoints batch concurrent requests (max_batch_size 32, no delay: a batch takes the requests that arrived while
# the server was busy, so a lone request waits for nothing); BATCHING=0 measures them unbatched.
BATCHING_SPEC=$([ "${BATCHING:-1}" = 0 ] && echo '' || echo ',"batching":{"max_batch_size":32,"max_delay_ms":0}')
curl -sf -X PUT "$URL/api/v1/endpoints/iris" -H 'Content-Type: application/json' \
  -d '{"variants":[{"name":"a","model":"models:/iris/1","weight":50},{"name":"b","model":"models:/iris/2","weight":50}]'"$BATCHING_SPEC"'}' >/dev/null
for model in titanic loans; do
  $BALLAST models register "$model" "${FILE[$model]}" --url "$URL" >/dev/null
  curl -sf -X PUT "$URL/api/v1/endpoints/$model" -H 'Content-Type: application/json' \
    -d '{"variants":[{"name":"main","model":"models:/'"$model"'/1"}]'"$BATCHING_SPEC"'}' >/dev/null
done
# Prometheus scrapes /metrics in production (every 15 s by default); so does this run, every 5 s: a metric that only
# costs once scraped (prometheus-net's meter adapter starts at the first scrape) is measured too.
(while sleep 5; do curl -s -o /dev/null "$URL/metrics"; done) &
PIDS+=($!)

declare -A BASE
for model in $MODELS; do
  port=$(free_port)
  "${SERVER_ON[@]}" dotnet bench/ServingBaseline/bin/Release/net10.0/ServingBaseline.dll "${FILE[$model]}" "$port" >"$WORK/baseline-$model.log" 2>&1 &
  PIDS+=($!)
  PID[baseline-$model]=$!
  BASE[$model]="http://127.0.0.1:$port"
  wait_up "http://127.0.0.1:$port/"
done

# wrk --latency prints "Requests/sec: N" and a percentile table ("50%  1.23ms").
measure() { # url model connections duration [delay_ms] -> "rps p50_ms p99_ms errors requests"
  DELAY_MS="${5:-0}" BODY="bench/serving/$2.json" TARGET_PATH="/v2/models/$2/infer" "${WRK_ON[@]}" wrk -t"$(( $3 < 2 ? 1 : 2 ))" -c"$3" -d"$4" --latency -s bench/serving/post.lua "$1" >"$WORK/wrk.txt"
  python3 - "$WORK/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % p, text, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
print("%.0f %.3f %.3f %s %d" % (rps, ms(50), ms(99), errors.group(1) if errors else 0, requests))
PY
}

# Waits (up to 60 s) until Ballast has converted every closed write-ahead file, so that no conversion left from its
# round runs during the baseline's.
wait_converted() { for _ in $(seq 1 120); do [ -z "$(find "$WORK/data/prediction-log" -name 'wal-*.closed')" ] && return 0; sleep 0.5; done; }
# A server's CPU time so far in clock ticks: its own (user + system), that of its children it waited for, and that of
# its live children (Ballast's write-ahead conversions run in one long-lived child process, counted nowhere else).
cpu_ticks() {
  local own live
  own=$(sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}')
  live=$(for c in $(pgrep -P "$1"); do sed 's/.*) //' "/proc/$c/stat" 2>/dev/null; done | awk '{t += $12 + $13} END {print t + 0}')
  echo $((own + live))
}
us_per_request() { python3 -c "print('%.1f' % (($2 - $1) / $(getconf CLK_TCK) * 1e6 / $3))"; }
median() { python3 -c 'import statistics, sys; print("%g" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
jit_methods() { curl -s "$URL/metrics" | awk '/^system_runtime_dotnet_jit_compiled_methods / {print $2}'; }
url_of() { [ "$1" = baseline ] && echo "${BASE[$2]}" || echo "$URL"; }
ROWS=""
JIT=""
PEAKS=""
HALF=""
for model in $MODELS; do
  # Warm-up at the peak's load, long enough for tiered JIT to settle in both (in the first seconds Ballast, with more
  # code to compile, spends ~6% of its CPU in the JIT).
  for target in baseline ballast; do measure "$(url_of $target $model)" "$model" "$CONNECTIONS" "$WARMUP" >/dev/null; done
  # Peak in ROUNDS alternating rounds: the machine's speed drifts between runs (the baseline alone swings 45-70k rps
  # on iris), so each round compares the two side by side and the summary takes the median of the rounds' ratios.
  declare -A PEAK=()
  ratios=""
  cpu_ratios=""
  jit_before=$(jit_methods)
  for round in $(seq 1 "$ROUNDS"); do
    wait_converted
    bcpu=$(cpu_ticks "${PID[baseline-$model]}")
    read -r brps bp50 bp99 berrors brequests < <(measure "${BASE[$model]}" "$model" "$CONNECTIONS" "$DURATION")
    bus=$(us_per_request "$bcpu" "$(cpu_ticks "${PID[baseline-$model]}")" "$brequests")
    cpu=$(cpu_ticks "${PID[ballast]}")
    read -r rps p50 p99 errors requests < <(measure "$URL" "$model" "$CONNECTIONS" "$DURATION")
    # Ballast converts write-ahead files to Parquet at a low priority while at most two wait: those left at the end
    # of its round were converted after it (each ~131k iris records, ~0.3 s of CPU alone), and their CPU is counted
    # in its round's.
    left=$(find "$WORK/data/prediction-log" -name 'wal-*.closed' | wc -l)
    wait_converted
    us=$(us_per_request "$cpu" "$(cpu_ticks "${PID[ballast]}")" "$requests")
    PEAK[baseline]+=" $brps"; PEAK[ballast]+=" $rps"
    ratio=$(python3 -c "print('%.2f' % ($rps / $brps))")
    ratios+=" $ratio"
    cpu_ratio=$(python3 -c "print('%.2f' % ($bus / $us))")
    cpu_ratios+=" $cpu_ratio"
    ROWS+="| $model | $round | $brps | $bp50 | $bp99 | $bus | $rps | $p50 | $p99 | $us | **${ratio}x** | ${cpu_ratio}x | $left | $((berrors + errors)) |"$'\n'
  done
  JIT+="$model: $(( $(jit_methods) - jit_before )); "
  wait_converted
  read -r lbrps lbp50 lbp99 lberrors _ < <(measure "${BASE[$model]}" "$model" 1 "$DURATION")
  read -r lrps lp50 lp99 lerrors _ < <(measure "$URL" "$model" 1 "$DURATION")
  PEAKS+="| $model | $(median ${PEAK[baseline]}) | $(median ${PEAK[ballast]}) | **$(median $ratios)x** | $(median $cpu_ratios)x | $lbrps / $lbp50 / $lbp99 | $lrps / $lp50 / $lp99 | $((lberrors + lerrors)) |"$'\n'
  # Half of a peak (the median round's), offered to both: connections each wait 10 ms on average between requests
  # (Poisson arrivals unless ARRIVALS=fixed). First half of the baseline's peak (the issue's reading: Ballast then runs
  # nearer its own peak than the baseline does), then half of Ballast's own; HALF_ROUNDS alternating rounds each, the
  # added p99 their mean.
  for of in $([ "$HALF_ROUNDS" -gt 0 ] && echo baseline ballast); do
    connections=$(python3 -c "print(int($(median ${PEAK[$of]}) / 2 / 100))")
    added=""
    for round in $(seq 1 "$HALF_ROUNDS"); do
      declare -A P99=()
      for target in baseline ballast; do
        wait_converted
        read -r hrps hp50 hp99 herrors _ < <(measure "$(url_of $target $model)" "$model" "$connections" "$DURATION" 10)
        P99[$target]=$hp99
        HALF+="| $model | half of $of's peak | $round | $target | $connections | $hrps | $hp50 | $hp99 | $herrors |"$'\n'
      done
      added+=" $(python3 -c "print('%.3f' % (${P99[ballast]} - ${P99[baseline]}))")"
    done
    HALF+="| $model | half of $of's peak | | **added p99** (mean of the rounds:$added) | | | | **$(python3 -c "import sys; print('%.3f' % (sum(map(float, sys.argv[1:])) / len(sys.argv[1:])))" $added)** | |"$'\n'
  done
done

METRICS=$(curl -s "$URL/metrics")
logged=$(echo "$METRICS" | awk '/^ballast_prediction_log_records_total /{print $2}')
dropped=$(echo "$METRICS" | awk '/^ballast_prediction_log_dropped_total /{print $2}')
mkdir -p bench/results
cat > bench/results/serving.md <<MD
# Serving load test ($(date -u +%Y-%m-%d), $(nproc) cores, wrk 2 threads (1 for one connection), ${DURATION} per run)

Ballast: iris on a split endpoint (two variants, 50/50), titanic (5 named int64/string/float inputs; skl2onnx) and
loans (10 named inputs, 5 strings and 5 floats; an ML.NET pipeline exported to ONNX by bench/MixedModel) on a
one-variant endpoint each; $([ "${BATCHING:-1}" = 0 ] && echo "no batching" || echo "both batching concurrent requests (max_batch_size 32, max_delay_ms 0)");
authentication off (loopback), prediction log and metrics on, /metrics scraped every 5 s. Baseline: bench/ServingBaseline,
a bare ASP.NET Core app parsing V2 JSON and calling the same ONNX Runtime session. $([ "$PIN" = 1 ] && echo "The servers (and Ballast's
conversions) run on core 0 only, wrk on the others (taskset), the servers with DOTNET_TC_DelaySingleProcMultiplier=1 (the tier-up delay of several cores)." || echo "wrk, the servers and the model
share the same $(nproc) cores.") Each target is warmed up for ${WARMUP} at the peak's load first.

Peak (${CONNECTIONS} connections) in ${ROUNDS} alternating rounds, each comparing the two side by side. Before each
baseline run Ballast has converted every write-ahead file; "files left to convert" counts the write-ahead files
(64 MiB each) whose conversion, deferred at a low priority during Ballast's round, ran after it:

| model | round | baseline rps | p50 ms | p99 ms | CPU us/req | ballast rps | p50 ms | p99 ms | CPU us/req | ratio | CPU ratio | files left to convert | non-2xx |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${ROWS}
"CPU us/req" is the server's CPU time (user and system, its own and its child processes', Ballast's conversions
included) per answered request; "CPU ratio" is the baseline's over Ballast's. It does not depend on how much of the
cores wrk takes in a round, but it counts the time the runtime's idle workers spin waiting for work, which Ballast's
longer request path gives them more of, so it is not what the two would do on cores of their own either.
Methods Ballast's JIT compiled during the peak rounds (a steady state compiles next to none): ${JIT%; }.

Summary: median peak rps and the median of the rounds' ratios; light load is 1 connection (rps / p50 ms / p99 ms):

| model | baseline rps | ballast rps | ratio | CPU ratio | baseline, 1 conn | ballast, 1 conn | non-2xx |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${PEAKS}
At half of a peak load, offered to both (N connections, each waiting 10 ms between requests, $([ "$ARRIVALS" = fixed ] && echo "exactly: requests arrive in waves" || echo "on average, drawn from an exponential distribution: Poisson arrivals")), in ${HALF_ROUNDS} alternating
rounds: half of the baseline's peak (the goal's reading; Ballast then runs nearer its own peak than the baseline does),
and half of Ballast's own peak:

| model | load | round | target | connections | rps | p50 ms | p99 ms | non-2xx |
| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |
${HALF}
Prediction log during the run: ${logged} records written, ${dropped} dropped.
$(echo "$METRICS" | awk '/^ballast_inference_batch_size_sum/ {split($1, a, "\""); s[a[2]] += $2} /^ballast_inference_batch_size_count/ {split($1, a, "\""); c[a[2]] += $2} END {for (e in s) if (c[e] > 0) printf "Rows per model call on %s: %.2f on average (%d rows in %d calls).\n", e, s[e] / c[e], s[e], c[e]}')
MD
cat bench/results/serving.md
