#!/usr/bin/env bash
# `ballast drift` on 1,000,000 current rows × 20 columns (15 numerical, 5 categorical) against a 100,000-row reference,
# seeded Parquet files generated into a temporary folder. Runs, each REPEAT times (median kept), all as separate
# processes under /usr/bin/time (wall time and peak RSS, process start included):
#   baseline   DuckDB computing just the histograms PSI needs (bench/DriftBaseline histograms)
#   psi        ballast drift --method psi                       (every column)
#   ks+chi     ballast drift --method ks --method chisquare     (KS on numbers, chi-square on categories)
#   auto       ballast drift                                    (Evidently's choice: normed Wasserstein, Jensen-Shannon)
# Writes bench/results/drift.md. ROWS_REF, ROWS_CUR and REPEAT change the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS_REF=${ROWS_REF:-100000}
ROWS_CUR=${ROWS_CUR:-1000000}
REPEAT=${REPEAT:-5}
WORK=$(mktemp -d /tmp/ballast-bench-drift.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

dotnet build -c Release src/Ballast.Cli -v quiet -nologo >/dev/null
dotnet build -c Release bench/DriftBaseline -v quiet -nologo >/dev/null
BALLAST="dotnet src/Ballast.Cli/bin/Release/net10.0/ballast.dll"
BASELINE="dotnet bench/DriftBaseline/bin/Release/net10.0/DriftBaseline.dll"

echo "generating $ROWS_REF reference and $ROWS_CUR current rows (seeded)" >&2
$BASELINE generate "$WORK" "$ROWS_REF" "$ROWS_CUR"
REF="$WORK/reference.parquet"
CUR="$WORK/current.parquet"

# name|command
RUNS=(
  "baseline|$BASELINE histograms $REF $CUR"
  "psi|$BALLAST drift --reference $REF --current $CUR --method psi"
  "ks+chi|$BALLAST drift --reference $REF --current $CUR --method ks --method chisquare"
  "auto|$BALLAST drift --reference $REF --current $CUR"
)

# One warm-up of each (page cache, JIT'd native libraries on disk), then REPEAT timed runs.
for run in "${RUNS[@]}"; do eval "${run#*|}" >/dev/null; done
for run in "${RUNS[@]}"; do
  name=${run%%|*}
  for i in $(seq 1 "$REPEAT"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time" bash -c "${run#*|} > '$WORK/$name.out'"
    echo "$name $(cat "$WORK/time")" >> "$WORK/times"
  done
done

python3 - "$WORK/times" "$WORK" "$ROWS_REF" "$ROWS_CUR" "$REPEAT" <<'PY' > bench/results/drift.md
import json, statistics, sys, datetime, os
times, work, rows_ref, rows_cur, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
runs = {}
for line in open(times):
    name, wall, kb = line.split()
    runs.setdefault(name, []).append((float(wall), int(kb)))
median = {name: (statistics.median(w for w, _ in v), max(k for _, k in v) / 1024) for name, v in runs.items()}
base = median["baseline"][0]
print(f"# ballast drift, {rows_cur:,} × 20 columns against {rows_ref:,} rows ({datetime.date.today()}, {os.cpu_count()} cores)\n")
print("Seeded Parquet files from `bench/DriftBaseline generate` (15 normal numerical columns, 5 shifted by 0.2 sd;")
print("5 categorical columns with 3-23 values, one shifted). Each run is a separate process (start-up included), timed by")
print(f"`/usr/bin/time`; wall time is the median of {repeat} runs, peak RSS the largest. Goals (issue 5): under 3 s, under")
print("1 GB, throughput at least 0.5× the DuckDB baseline computing the same histograms.\n")
print("| run | what it computes | wall time | peak RSS | throughput vs baseline |")
print("| --- | --- | ---: | ---: | ---: |")
what = {
    "baseline": "DuckDB alone: Sturges histograms of 15 numerical columns over both files, value counts of 5 categorical",
    "psi": "`ballast drift --method psi`: PSI on all 20 columns (histograms and value counts in DuckDB)",
    "ks+chi": "`ballast drift --method ks --method chisquare`: exact KS statistic on 15 × 1.1 M raw values (asymptotic p), chi-square on 5",
    "auto": "`ballast drift` (Evidently's default here: normed Wasserstein on 15, Jensen-Shannon on 5)",
}
for name in ["baseline", "psi", "ks+chi", "auto"]:
    wall, mb = median[name]
    print(f"| {name} | {what[name]} | {wall:.2f} s | {mb:.0f} MiB | {base / wall:.2f}× |")
ks_psi = median["psi"][0] + median["ks+chi"][0]
print(f"\nPSI and KS/chi-square on every column, as the two runs above together: {ks_psi:.2f} s "
      f"({base / ks_psi:.2f}× the baseline's throughput).\n")
for name in ["psi", "ks+chi", "auto"]:
    d = json.load(open(f"{work}/{name}.out"))
    drifted = [f["name"] for f in d["features"] if f["drifted"]]
    print(f"- `{name}`: {d['drifted_features']} of {len(d['features'])} columns drifted ({', '.join(drifted) or 'none'}); dataset drift: {str(d['dataset_drift']).lower()}")
PY
cat bench/results/drift.md
