#!/usr/bin/env bash
# Issue 8's feature store benchmark. Writes bench/results/features.md. Each part compares with a baseline in the same run:
#
# Online lookups (one process, bench/FeatureBench lookup): one service's 20 features (15 double, 3 int64, 2 string) for
# 100,000 entities, read through FeatureLookup.GetAsync (what serving enrichment and /api/v1/features/online call): LOOKUPS
# timed lookups of one entity and BATCH_LOOKUPS of BATCH entities per case, in interleaved rounds; exact percentiles.
#   embedded  the metadata database's online store (SQLite)   baseline: a pooled connection and a SELECT by primary key
#   redis     the Redis online store on loopback               baseline: HGET of the stored JSON (pipelined for a batch)
# Redis: BALLAST_BENCH_REDIS or BALLAST_TEST_REDIS (redis://127.0.0.1:PORT); without either, one is started with
# scripts/services.sh's start_redis and stopped at exit.
#
# Point-in-time join (separate processes under /usr/bin/time: wall, CPU, peak RSS; REPEAT runs each, alternating):
# FEATURE_ROWS seeded feature rows over ENTITIES entities (a year of events, 4 features, TTL 30 days) × ENTITY_ROWS
# entity rows, all Parquet.
#   ballast   OfflineStore.TrainingSetAsync (what `ballast features training-set` runs on the server) over the features
#             file added as a dataset version, from a migrated SQLite data folder
#   plain     the plain DuckDB ASOF LEFT JOIN of the same files (no tie-breaking, no row order, no input checks)
# then checks both outputs hold the same values for every entity row.
#
#   bench/features/run.sh    # defaults: 10,000,000 × 1,000,000, REPEAT 3; 100,000 lookups of 1 entity, 5,000 of 100
#   FEATURE_ROWS=1000000 ENTITIES=100000 ENTITY_ROWS=100000 LOOKUPS=20000 BATCH_LOOKUPS=1000 bench/features/run.sh  # quick
set -euo pipefail
cd "$(dirname "$0")/../.."
FEATURE_ROWS=${FEATURE_ROWS:-10000000}
ENTITIES=${ENTITIES:-1000000}
ENTITY_ROWS=${ENTITY_ROWS:-1000000}
REPEAT=${REPEAT:-3}
LOOKUPS=${LOOKUPS:-100000}
BATCH_LOOKUPS=${BATCH_LOOKUPS:-5000}
BATCH=${BATCH:-100}
WORK=$(mktemp -d /tmp/ballast-bench-features.XXXXXX)
REDIS=${BALLAST_BENCH_REDIS:-${BALLAST_TEST_REDIS:-}}
cleanup() {
  if declare -F stop_services >/dev/null; then stop_services; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
if [ -z "$REDIS" ]; then
  # shellcheck source=scripts/services.sh
  source scripts/services.sh
  SERVICES_DIR="$WORK/services"
  mkdir -p "$SERVICES_DIR"
  start_redis
  REDIS=$BALLAST_TEST_REDIS
fi

dotnet build -c Release bench/FeatureBench -v quiet -nologo >/dev/null
BENCH="dotnet bench/FeatureBench/bin/Release/net10.0/FeatureBench.dll"
echo "$(date -u '+%Y-%m-%d %H:%M UTC')|$(nproc)|$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)|$(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/machine"

echo "online lookups: $LOOKUPS of 1 entity and $BATCH_LOOKUPS of $BATCH per case, Redis at $REDIS" >&2
$BENCH lookup "$LOOKUPS" "$BATCH_LOOKUPS" "$BATCH" "$REDIS" > "$WORK/lookups.jsonl"

echo "generating $FEATURE_ROWS feature rows over $ENTITIES entities and $ENTITY_ROWS entity rows (seeded)" >&2
$BENCH generate "$WORK" "$FEATURE_ROWS" "$ENTITIES" "$ENTITY_ROWS" >&2
$BENCH prepare "$WORK" >&2
# One warm-up of each (page cache), then REPEAT timed runs of each, alternating so load from elsewhere falls on both.
$BENCH asof "$WORK" >/dev/null
$BENCH training-set "$WORK" >/dev/null
for i in $(seq 1 "$REPEAT"); do
  for name in plain ballast; do
    mode=$([ "$name" = plain ] && echo asof || echo training-set)
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" $BENCH "$mode" "$WORK" > "$WORK/$name.out"
    echo "$name $(cat "$WORK/time") $(grep -o 'join_seconds=[0-9.]* join_cpu_seconds=[0-9.]*' "$WORK/$name.out" | tr -d 'a-z_=' )" >> "$WORK/times"
  done
done
$BENCH compare "$WORK" > "$WORK/compare.txt" || { cat "$WORK/compare.txt" >&2; echo "the outputs differ" >&2; exit 1; }
echo "$(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/load-after"

python3 - "$WORK" "$FEATURE_ROWS" "$ENTITIES" "$ENTITY_ROWS" "$REPEAT" "$LOOKUPS" "$BATCH_LOOKUPS" "$BATCH" <<'PY' > bench/results/features.md
import json, statistics, sys
work, feature_rows, entities, entity_rows, repeat, lookups, batch_lookups, batch = sys.argv[1], *map(int, sys.argv[2:])
when, cores, cpu, load_before = open(f"{work}/machine").read().strip().split("|")
load_after = open(f"{work}/load-after").read().strip()
print(f"# Feature store: online lookups and point-in-time join ({when}, {cores} cores, {cpu})\n")
print(f"`bench/features/run.sh`. Load average (1, 5, 15 min) before: {load_before}; after: {load_after} — the machine is")
print("shared with other builds and tests, so absolute times carry their noise; compare within a run (ratios, CPU time).\n")

print("## Online lookups: 20 features of one service\n")
print(f"{lookups:,} timed lookups of one entity and {batch_lookups:,} of {batch} entities per case after a warm-up of 1,000, run in")
print("10 interleaved rounds, one at a time (no concurrency);")
print("each operation timed alone, percentiles exact. `ballast` is `FeatureLookup.GetAsync` (what serving enrichment and")
print("`/api/v1/features/online` call: the store's read, the TTL check, parsing the stored JSON into typed values);")
print("`baseline` is the raw read the store comes down to (SQLite: a pooled connection and a SELECT by primary key, Redis: HGET")
print(f"of the stored JSON, pipelined for a batch). 100,000 entities, random keys (seeded). Goal (issue 8): p99 under 1 ms for one entity.\n")
print("| store | lookup | code | p50 | p90 | p99 | p99.9 | max | allocated/op |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
rows = [json.loads(line) for line in open(f"{work}/lookups.jsonl")]
def us(v): return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"
for r in rows:
    shape = "1 entity" if r["shape"] == "single" else f"{r['keys']} entities"
    print(f"| {r['store']} | {shape} | {r['code']} | {us(r['p50_us'])} | {us(r['p90_us'])} | {us(r['p99_us'])} | {us(r['p999_us'])} | {us(r['max_us'])} | {r['allocated_bytes']:,} B |")
print()
for store in ["embedded", "redis"]:
    for shape in ["single", "batch"]:
        pair = {r["code"]: r for r in rows if r["store"] == store and r["shape"] == shape}
        if len(pair) == 2:
            print(f"- {store}, {'1 entity' if shape == 'single' else f'{batch} entities'}: Ballast adds {pair['ballast']['p50_us'] - pair['baseline']['p50_us']:.0f} µs at p50 "
                  f"(×{pair['ballast']['p50_us'] / pair['baseline']['p50_us']:.2f} of the raw read), p99 {us(pair['ballast']['p99_us'])} against {us(pair['baseline']['p99_us'])}.")
if not any(r["store"] == "redis" for r in rows):
    print("- Redis: not measured (no Redis given).")

print(f"\n## Point-in-time join: {feature_rows:,} feature rows × {entity_rows:,} entity rows\n")
print(f"Seeded Parquet (`FeatureBench generate`): feature rows over {entities:,} entities, a year of events in time order with")
print("distinct event times, 4 features (double, int64, float, string); entity rows with random keys and times, a label.")
print("View TTL 30 days. Each run is a separate process timed by `/usr/bin/time` (process start, and for Ballast opening the")
print("metadata database and catalog, included); `join` is the join alone, timed inside the process. Medians of")
print(f"{repeat} runs each, alternating; peak RSS is the largest. Goal (issue 8): throughput at least 0.8× the plain ASOF join.\n")
print("| run | what it does | process wall | process CPU | peak RSS | join wall | join CPU | throughput vs plain (join wall / join CPU) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
runs = {}
for line in open(f"{work}/times"):
    name, wall, user, system, kb, join, join_cpu = line.split()
    runs.setdefault(name, []).append((float(wall), float(user) + float(system), int(kb), float(join), float(join_cpu)))
med = {n: [statistics.median(v[i] for v in vs) for i in range(5)] + [max(v[2] for v in vs)] for n, vs in runs.items()}
what = {
    "plain": "DuckDB alone: `ASOF LEFT JOIN` of the two files on key and time, TTL by `CASE`, written to Parquet",
    "ballast": "`OfflineStore.TrainingSetAsync`: checks the entity file, joins (ties on key and time: the last row in the files wins), keeps the entity rows' order, writes Parquet",
}
for n in ["plain", "ballast"]:
    wall, cpu_s, _, join, join_cpu, kb = med[n]
    print(f"| {n} | {what[n]} | {wall:.2f} s | {cpu_s:.2f} s | {kb / 1024:.0f} MiB | {join:.2f} s | {join_cpu:.2f} s | "
          f"{med['plain'][3] / join:.2f}× / {med['plain'][4] / join_cpu:.2f}× |")
print("\nEvery run (process wall s, user+sys CPU s, peak RSS MiB, join wall s, join CPU s):\n")
for n, vs in runs.items():
    print(f"- {n}: " + "; ".join(f"{w:.2f}, {c:.2f}, {k / 1024:.0f}, {j:.2f}, {jc:.2f}" for w, c, k, j, jc in vs))
print(f"\nCheck: {open(f'{work}/compare.txt').read().strip()}")
PY
cat bench/results/features.md
