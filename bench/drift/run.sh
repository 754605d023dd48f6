#!/usr/bin/env bash
# `ballast drift` on 1,000,000, 10,000,000 and 30,000,000 current rows × 20 columns (15 numerical, 5 categorical)
# against a 100,000-row reference, seeded Parquet files generated once into a temporary folder (or DATA_DIR). Runs, all as separate processes
# under /usr/bin/time (wall time and peak RSS, process start included), interleaved so load changes hit them alike:
#   baseline   DuckDB computing just the histograms PSI needs (bench/DriftBaseline histograms), in the same run
#   psi        ballast drift --method psi                                   (every column)
#   ks+chi     ballast drift --method ks --method chisquare                 (KS on numbers, chi-square on categories)
#   all        ballast drift --method psi --method ks --method chisquare    (the goal: PSI and KS/chi-square, one run)
#   auto       ballast drift                                                (Evidently's choice: normed Wasserstein, Jensen-Shannon)
#   all-256    the same as all with --memory-limit 256 (DuckDB's limit halved, at 10M only)
# 10M runs baseline, all and all-256 only; 30M and more baseline and all, without a warm-up. Writes bench/results/drift.md.
# ROWS_REF, SIZES (current rows, space-separated), REPEAT (small sizes), REPEAT_LARGE (10M) and REPEAT_HUGE (30M and
# more) change it; DATA_DIR keeps the generated files (DATA_DIR/<rows>/) for the next run instead of deleting them.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS_REF=${ROWS_REF:-100000}
SIZES=${SIZES:-"1000000 10000000 30000000"}
REPEAT=${REPEAT:-5}
REPEAT_LARGE=${REPEAT_LARGE:-3}
REPEAT_HUGE=${REPEAT_HUGE:-1}
WORK=$(mktemp -d /tmp/ballast-bench-drift.XXXXXX)
DATA=${DATA_DIR:-$WORK}
trap 'rm -rf "$WORK"' EXIT

dotnet build -c Release src/Ballast.Cli -v quiet -nologo >/dev/null
dotnet build -c Release bench/DriftBaseline -v quiet -nologo >/dev/null
BALLAST="dotnet src/Ballast.Cli/bin/Release/net10.0/ballast.dll"
BASELINE="dotnet bench/DriftBaseline/bin/Release/net10.0/DriftBaseline.dll"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/load"

for rows in $SIZES; do
  mkdir -p "$WORK/$rows" "$DATA/$rows"
  REF="$DATA/$rows/reference.parquet"
  CUR="$DATA/$rows/current.parquet"
  if [ ! -f "$CUR" ] || [ ! -f "$REF" ]; then
    echo "generating $ROWS_REF reference and $rows current rows (seeded)" >&2
    $BASELINE generate "$DATA/$rows" "$ROWS_REF" "$rows"
  fi
  # name|command
  RUNS=("baseline|$BASELINE histograms $REF $CUR")
  if [ "$rows" -lt 10000000 ]; then
    RUNS+=("psi|$BALLAST drift --reference $REF --current $CUR --method psi")
    RUNS+=("ks+chi|$BALLAST drift --reference $REF --current $CUR --method ks --method chisquare")
    repeat=$REPEAT
  elif [ "$rows" -lt 30000000 ]; then
    repeat=$REPEAT_LARGE
  else
    repeat=$REPEAT_HUGE
  fi
  RUNS+=("all|$BALLAST drift --reference $REF --current $CUR --method psi --method ks --method chisquare")
  if [ "$rows" -lt 10000000 ]; then
    RUNS+=("auto|$BALLAST drift --reference $REF --current $CUR")
  elif [ "$rows" -lt 30000000 ]; then
    RUNS+=("all-256|$BALLAST drift --reference $REF --current $CUR --method psi --method ks --method chisquare --memory-limit 256")
  fi

  # One warm-up of each (page cache, native libraries; the files were just written, so at 30M the cache is warm
  # already and the warm-up is skipped), then the timed runs, interleaved.
  echo "$rows $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/load-sizes"
  if [ "$rows" -lt 30000000 ]; then
    for run in "${RUNS[@]}"; do eval "${run#*|}" >/dev/null; done
  fi
  for i in $(seq 1 "$repeat"); do
    for run in "${RUNS[@]}"; do
      name=${run%%|*}
      /usr/bin/time -f "%e %M" -o "$WORK/time" bash -c "${run#*|} > '$WORK/$rows/$name.out'"
      echo "$rows $name $(cat "$WORK/time")" >> "$WORK/times"
    done
  done
  echo "$rows $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/load-sizes"
  if [ -z "${DATA_DIR:-}" ]; then rm -f "$REF" "$CUR"; fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/load"

python3 - "$WORK" "$ROWS_REF" "$REPEAT" "$REPEAT_LARGE" "$REPEAT_HUGE" <<'PY' > bench/results/drift.md
import json, statistics, sys, datetime, os
work, rows_ref, repeat, repeat_large, repeat_huge = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
runs = {}
for line in open(f"{work}/times"):
    rows, name, wall, kb = line.split()
    runs.setdefault((int(rows), name), []).append((float(wall), int(kb)))
median = {key: (statistics.median(w for w, _ in v), max(k for _, k in v) / 1024, len(v)) for key, v in runs.items()}
sizes = sorted({rows for rows, _ in runs})
load = open(f"{work}/load").read().split("\n")
loads = {}
for line in open(f"{work}/load-sizes"):
    rows, *avg = line.split()
    loads.setdefault(int(rows), []).append(" ".join(avg))
def short(rows):
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows:,}"
print(f"# ballast drift, {', '.join(short(r) for r in sizes)} rows × 20 columns against {rows_ref:,} rows ({datetime.date.today()}, {os.cpu_count()} cores)\n")
print("Seeded Parquet files from `bench/DriftBaseline generate` (15 normal numerical columns, 5 shifted by 0.2 sd;")
print("5 categorical columns with 3-23 values, one shifted). Each run is a separate process (start-up included), timed by")
print(f"`/usr/bin/time`; wall time is the median of {repeat} runs ({repeat_large} at 10M, {repeat_huge} at 30M and more), peak RSS the largest;")
print("the runs of a size are interleaved so the machine's load (shared with other builds) hits them alike. "
      f"Load average (1/5/15 min): {load[0].split(': ')[1]} before, {load[1].split(': ')[1]} after.\n")
print("Goals (issue 5): PSI and KS/chi-square on every column in one run under 3 s and under 1 GB at 1M rows, with")
print("throughput at least 0.5× the DuckDB baseline computing the same histograms in the same run; beyond, memory flat:")
print("the peak RSS at 10M and 30M within a few percent (5% here) of the 1M peak, with the default options.\n")
print("## Memory by rows (PSI, KS and chi-square on every column, one run, default options)\n")
print("| rows | peak RSS | against 1M | wall time | throughput vs baseline | load average (1/5/15 min) at the start and end of the size |")
print("| ---: | ---: | ---: | ---: | ---: | --- |")
_, first_mb, _ = median[(sizes[0], "all")]
for rows in sizes:
    wall, mb, n = median[(rows, "all")]
    base = median[(rows, "baseline")][0]
    print(f"| {rows:,} | {mb:.0f} MiB | {mb / first_mb:.2f}× | {wall:.2f} s | {base / wall:.2f}× | {' → '.join(loads.get(rows, []))} |")
print()
print("## Every run\n")
print("| rows | run | what it computes | wall time | peak RSS | throughput vs baseline |")
print("| ---: | --- | --- | ---: | ---: | ---: |")
what = {
    "baseline": "DuckDB alone: Sturges histograms of 15 numerical columns over both files, value counts of 5 categorical",
    "psi": "`--method psi`: PSI on all 20 columns (histograms and value counts in DuckDB)",
    "ks+chi": "`--method ks --method chisquare`: exact KS statistic on 15 (sorted values streamed from DuckDB; asymptotic p), chi-square on 5",
    "all": "`--method psi --method ks --method chisquare`: PSI on 20, KS on 15, chi-square on 5, one run",
    "auto": "`ballast drift` (Evidently's default here: normed Wasserstein on 15, Jensen-Shannon on 5)",
    "all-256": "the same as all with `--memory-limit 256` (DuckDB's limit halved from 512 MB)",
}
for rows in sizes:
    base = median[(rows, "baseline")][0]
    for name in ["baseline", "psi", "ks+chi", "all", "auto", "all-256"]:
        if (rows, name) in median:
            wall, mb, n = median[(rows, name)]
            print(f"| {rows:,} | {name} | {what[name]} | {wall:.2f} s | {mb:.0f} MiB | {base / wall:.2f}× |")

print()
small = sizes[0]
wall, mb, _ = median[(small, "all")]
ratio = median[(small, "baseline")][0] / wall
print(f"- **{small:,} rows, PSI and KS/chi-square on every column in one run:** {wall:.2f} s "
      f"({'met' if wall < 3 else 'NOT met'}: under 3 s), {mb:.0f} MiB ({'met' if mb < 1024 else 'NOT met'}: under 1 GB), "
      f"{ratio:.2f}× the baseline's throughput ({'met' if ratio >= 0.5 else 'NOT met'}: at least 0.5×).")
for large in sizes[1:]:
    lwall, lmb, _ = median[(large, "all")]
    lratio = median[(large, "baseline")][0] / lwall
    growth = lmb / mb
    print(f"- **{large:,} rows, the same run:** {lwall:.2f} s, {lratio:.2f}× the baseline's throughput (the issue sets no speed goal "
          f"at this size); peak RSS {lmb:.0f} MiB against {mb:.0f} MiB at {small:,} rows ({growth:.2f}× for {large // small}× the rows). "
          f"Memory flat (within 5% of the {small:,}-row peak): {'met' if growth <= 1.05 else 'NOT met'}.")
    if (large, "all-256") in median:
        swall, smb, _ = median[(large, "all-256")]
        print(f"- **{large:,} rows with `--memory-limit 256`:** {swall:.2f} s, peak RSS {smb:.0f} MiB "
              f"(JSON {'identical to' if open(f'{work}/{large}/all-256.out').read() == open(f'{work}/{large}/all.out').read() else 'DIFFERENT from'} the 512 MB run's).")
outputs = {rows: open(f"{work}/{rows}/all.out").read() for rows in sizes}
print()
for rows in sizes:
    for name in ["psi", "ks+chi", "all", "auto", "all-256"]:
        path = f"{work}/{rows}/{name}.out"
        if not os.path.exists(path):
            continue
        d = json.load(open(path))
        drifted = [f["name"] for f in d["features"] if f["drifted"]]
        line = f"- {rows:,} `{name}`: {d['drifted_features']} of {len(d['features'])} columns drifted ({', '.join(drifted) or 'none'}); dataset drift: {str(d['dataset_drift']).lower()}"
        if "by_method" in d:
            line += "; by method: " + ", ".join(f"{m['method']} {m['drifted_features']} of {m['features']}" for m in d["by_method"])
        print(line)
print()
print("How memory stays flat: DuckDB reads under `--memory-limit` (512 MB by default) with its external file cache off (on by")
print("default since DuckDB 1.3, it kept an entry per Parquet column chunk read: about 1 MiB per million rows of 20 columns,")
print("29 MiB at 30M); the aggregate and grouped passes keep fixed-size state per column; and each column the sorted-value")
print("methods walk is sorted in value ranges of at most a quarter of the limit (2 M values at 512 MB), so 10M rows are five")
print("sorts of the size of 1M's one and 30M fifteen. With ranges of the whole limit (8.4 M values) the same run peaked at")
print("181 MiB at 1M, 262 MiB at 10M and 428 MiB at 30M (one run, loaded machine). What is left at 30M (about a tenth over")
print("1M) does not come from the sorts (ranges of 1.4 M values peaked the same) and was not found; DuckDB alone computing")
print("the baseline's histograms grows more (see its rows). The price of fixed ranges is time: each range reads the column")
print("again, so past 2 M values a column the time grows faster than the rows.")
PY
