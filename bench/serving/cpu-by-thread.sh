#!/usr/bin/env bash
# The server's CPU per request on the iris split endpoint (as signals.sh: wrk, CONN connections, DUR seconds, after a
# 5 s warm-up), split by thread: request workers (thread pool), background (long-running threads: the assignment flush,
# the WAL -> Parquet conversion when it runs in the server and the fsync of full write-ahead files, including those
# that exited during the run), server GC, socket engine, other; and the CPU of the server's child processes (the
# conversion, `ballast __convert-wal`), apart from the total. The workers' share is what a request costs on its own
# path; the background share depends on whether a write-ahead file rotated during the run (one does every ~64 MiB of
# records, a few seconds at peak).
# usage: bench/serving/cpu-by-thread.sh BUILD_DIR LABEL   env: CONN (32), DUR (12). Run builds alternately.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=$1; LABEL=$2; CONN=${CONN:-32}; DUR=${DUR:-12}
FIXTURES=$(cd ../shared/fixtures && pwd)
W=$(mktemp -d /tmp/ballast-cpu-by-thread.XXXXXX); P=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"); URL=http://127.0.0.1:$P
dotnet $BUILD/ballast.dll server --data-dir $W/data --listen $URL > $W/log 2>&1 & S=$!
trap 'kill $S 2>/dev/null; wait $S 2>/dev/null; rm -rf "$W"' EXIT
for i in $(seq 1 120); do curl -s -o /dev/null $URL/health && break; sleep 0.5; done
F=$FIXTURES; B="dotnet $BUILD/ballast.dll"
$B models register iris $F/logreg_iris.onnx --url $URL >/dev/null; $B models register iris $F/logreg_iris.onnx --url $URL >/dev/null
curl -sf -X PUT "$URL/api/v1/endpoints/iris" -H 'Content-Type: application/json' -d '{"variants":[{"name":"a","model":"models:/iris/1","weight":50},{"name":"b","model":"models:/iris/2","weight":50}]}' >/dev/null
T="-t$(( CONN < 2 ? 1 : 2 )) -c$CONN"
BODY=bench/serving/iris.json TARGET_PATH=/v2/models/iris/infer wrk $T -d5s -s bench/serving/post.lua $URL >/dev/null
# utime + stime of each thread (fields 14 and 15 of stat, counted after the parenthesized name, which may hold spaces).
snap() { for t in /proc/$S/task/*; do n=$(tr ' ' _ < $t/comm 2>/dev/null); echo "$(basename $t) $n $(sed 's/.*) //' $t/stat 2>/dev/null | awk '{print $12+$13}')"; done; echo "process _process_ $(sed 's/.*) //' /proc/$S/stat | awk '{print $12+$13}')"; echo "children _children_ $(for c in $(pgrep -P $S); do sed 's/.*) //' /proc/$c/stat; done | awk '{t += $12+$13} END {print t+0}')"; }
snap > $W/a
BODY=bench/serving/iris.json TARGET_PATH=/v2/models/iris/infer wrk $T -d${DUR}s -s bench/serving/post.lua $URL > $W/wrk.txt
snap > $W/b
HWM=$(awk '/VmHWM/ {print int($2 / 1024)}' /proc/$S/status)
python3 - $W/a $W/b $W/wrk.txt "$LABEL" $(getconf CLK_TCK) "$HWM" <<'PY'
import sys, re, collections
rows = lambda f: {p[0]: (p[1], int(p[2])) for p in (l.split() for l in open(f)) if len(p) == 3}
a = rows(sys.argv[1]); b = rows(sys.argv[2])
t = open(sys.argv[3]).read(); n = int(re.search(r"(\d+) requests in", t).group(1)); bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
k = collections.Counter()
process = b.pop('process')[1] - a.pop('process')[1]
children = b.pop('children')[1] - a.pop('children')[1]
for tid, (name, v) in b.items():
    d = v - a.get(tid, (name, 0))[1]
    kind = 'workers' if name.startswith('.NET_TP_W') else 'long-running' if name.startswith('.NET_Long') else 'gc' if 'GC' in name else 'sockets' if 'Socket' in name else 'other'
    k[kind] += d
k['exited'] = process - sum(k.values())
us = lambda ticks: ticks * 1e6 / int(sys.argv[5]) / n
print("%-14s total %5.1f  workers %5.1f  background(long-running+exited) %5.1f  gc %4.1f  sockets %4.1f  other %4.1f  child process %4.1f  (us/req, %d req%s; peak RSS %s MiB)" % (sys.argv[4], us(process), us(k['workers']), us(k['long-running'] + k['exited']), us(k['gc']), us(k['sockets']), us(k['other']), us(children), n, ", %s non-2xx" % bad.group(1) if bad else "", sys.argv[6]))
PY
