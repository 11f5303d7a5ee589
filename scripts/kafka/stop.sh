#!/usr/bin/env bash
# Stop the local Kafka broker started by scripts/kafka/start.sh.
#   stop.sh          SIGTERM (controlled shutdown), wait up to 30 s, then SIGKILL.
#   stop.sh --kill   SIGKILL immediately (simulated crash); the data dir is kept, so
#                    `KAFKA_KEEP_DATA=1 scripts/kafka/start.sh` resumes from it.
# Exits 0 when nothing is running. Env: KAFKA_HOME_DIR (same as start.sh), KAFKA_STOP_TIMEOUT (30).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CACHE="${KAFKA_HOME_DIR:-$REPO_ROOT/.cache/kafka}"
PIDFILE="$CACHE/broker.pid"
CONF="$CACHE/server.properties"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

MODE=term
case "${1:-}" in
  "") ;;
  --kill) MODE=kill ;;
  -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--kill]" >&2; exit 2 ;;
esac

log() { echo "[kafka/stop] $*" >&2; }

if [ ! -d "$CACHE" ]; then log "nothing to stop"; exit 0; fi

if command -v flock >/dev/null; then
  exec 9>"$CACHE/.lock"
  flock -w 300 9 || { log "timed out waiting for lock"; exit 1; }
fi

# Live (non-zombie) broker process started from this cache dir?
is_our_broker() {
  local pid="$1" state cmd
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [ "$state" != "Z" ] && [ -n "$state" ] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == *kafka.Kafka*"$CONF"* ]]
}

wait_gone() {
  local pid="$1" deadline=$((SECONDS + $2))
  while is_our_broker "$pid"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

PID="$(cat "$PIDFILE" 2>/dev/null || true)"
if ! is_our_broker "$PID"; then
  [ -f "$PIDFILE" ] && log "removing stale pid file (pid ${PID:-?} is not running)"
  rm -f "$PIDFILE"
  log "no broker running"
  exit 0
fi

t0=$SECONDS
if [ "$MODE" = kill ]; then
  log "SIGKILL broker pid $PID"
  kill -KILL "$PID" 2>/dev/null || true
  wait_gone "$PID" 10 || { log "pid $PID still present after SIGKILL"; exit 1; }
else
  log "SIGTERM broker pid $PID (controlled shutdown, up to ${STOP_TIMEOUT}s)"
  kill -TERM "$PID" 2>/dev/null || true
  if ! wait_gone "$PID" "$STOP_TIMEOUT"; then
    log "still running after ${STOP_TIMEOUT}s; SIGKILL"
    kill -KILL "$PID" 2>/dev/null || true
    wait_gone "$PID" 10 || { log "pid $PID still present after SIGKILL"; exit 1; }
  fi
fi
rm -f "$PIDFILE"
log "stopped in $((SECONDS - t0))s"
