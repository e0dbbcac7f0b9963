# Shared set-up for ops/run and ops/test: system packages, a private Redis, the Swift toolchain.
# Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
APT_PACKAGES=(redis-server redis-tools libhiredis-dev libcurl4-openssl-dev pkg-config python3)

log() { printf '[stockyard] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

ensure_packages() {
  local missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_swift() {
  if ! command -v swift >/dev/null; then
    for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
      if [ -x "$candidate/swift" ]; then export PATH="$candidate:$PATH"; break; fi
    done
  fi
  command -v swift >/dev/null || { log "Swift 6 is required (swift not found on PATH)"; exit 1; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_redis DIR: starts redis-server with its data in DIR on a free port; sets REDIS_PORT,
# REDIS_PID and STOCKYARD_REDIS_URL, and stops it when the calling script exits.
start_redis() {
  local dir="$1"
  mkdir -p "$dir"
  REDIS_PORT="$(free_port)"
  redis-server "$ROOT/ops/redis.conf" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" \
    --logfile "$dir/redis.log" --daemonize no &
  REDIS_PID=$!
  trap stop_redis EXIT
  for _ in $(seq 1 200); do
    if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
      export STOCKYARD_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
      log "redis on port $REDIS_PORT, data in ${dir#"$ROOT"/}"
      return 0
    fi
    kill -0 "$REDIS_PID" 2>/dev/null || { log "redis-server failed to start, see $dir/redis.log"; exit 1; }
    sleep 0.05
  done
  log "redis-server did not answer"; exit 1
}

stop_redis() {
  if [ -n "${REDIS_PID:-}" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
}
