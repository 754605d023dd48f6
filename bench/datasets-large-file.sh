#!/usr/bin/env bash
# Peak memory of `ballast data add` on a large CSV (default 2 GiB; SIZE_MB to change it): the CLI hashes and uploads
# it, the server stores it content-addressed and profiles it with DuckDB under its memory limit. Baseline in the same
# run: `sha256sum` of the same file (one streaming pass, no profile). Writes bench/results/datasets-large-file.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-2048}
WORK=$(mktemp -d /tmp/ballast-bench-data.XXXXXX)
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

dotnet build -c Release src/Ballast.Cli -v quiet -nologo >/dev/null
BALLAST="dotnet src/Ballast.Cli/bin/Release/net10.0/ballast.dll"

echo "generating a ${SIZE_MB} MiB CSV (seeded)" >&2
python3 - "$WORK/big.csv" "$SIZE_MB" <<'PY'
import random, sys
path, size_mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
plans = ["basic", "pro", "team", "enterprise"]
target = size_mb * 1024 * 1024
with open(path, "w", buffering=1 << 20) as f:
    f.write("id,age,tenure_months,monthly_spend,plan,country,churned\n")
    i = 0
    while f.tell() < target:
        lines = []
        for _ in range(10000):
            i += 1
            age = "" if rnd.random() < 0.02 else str(rnd.randint(18, 90))
            lines.append(f"{i},{age},{rnd.randint(0, 120)},{rnd.gauss(60, 20):.2f},{rnd.choice(plans)},C{rnd.randint(0, 199)},{int(rnd.random() < 0.2)}\n")
        f.write("".join(lines))
PY
ROWS=$(($(wc -l < "$WORK/big.csv") - 1))
BYTES=$(stat -c %s "$WORK/big.csv")

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
/usr/bin/time -f "%M %e" -o "$WORK/server.time" $BALLAST server --data-dir "$WORK/data" --listen "http://127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 1; done

/usr/bin/time -f "%M %e" -o "$WORK/sha.time" sha256sum "$WORK/big.csv" >/dev/null
/usr/bin/time -f "%M %e" -o "$WORK/add.time" $BALLAST data add "$WORK/big.csv" --name big --url "http://127.0.0.1:$PORT" --json >"$WORK/add.json"
# Stop the server itself (GNU time does not forward signals; background jobs ignore SIGINT), so time reports its peak.
pkill -TERM -P "$SERVER_PID"; wait "$SERVER_PID" || true

read -r SHA_KB SHA_S < "$WORK/sha.time"
read -r ADD_KB ADD_S < "$WORK/add.time"
read -r SERVER_KB _ < "$WORK/server.time"
PROFILED=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["version"]; print(v["row_count"], len(v["profile"]["tables"][0]["columns"]))' "$WORK/add.json")
mkdir -p bench/results
cat > bench/results/datasets-large-file.md <<MD
# ballast data add, ${SIZE_MB} MiB CSV ($(date -u +%Y-%m-%d), $(nproc) cores)

File: ${BYTES} bytes, ${ROWS} rows, 7 columns (seeded generator in bench/datasets-large-file.sh).
Profiled rows and columns reported by the server: ${PROFILED}.

| process | peak RSS | wall time |
| --- | ---: | ---: |
| baseline: \`sha256sum\` of the file | $((SHA_KB / 1024)) MiB | ${SHA_S} s |
| \`ballast data add\` (CLI: hash, upload) | $((ADD_KB / 1024)) MiB | ${ADD_S} s |
| \`ballast server\` over its whole life (store, DuckDB profile with a 512 MiB limit) | $((SERVER_KB / 1024)) MiB | |
MD
cat bench/results/datasets-large-file.md
