#!/usr/bin/env bash
# Start a single-node Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1,
# using jars fetched from Maven Central (no Docker). Idempotent: if the broker of this cache
# directory is already running and answering, it only prints the connection line.
#
# Env: KAFKA_HOME_DIR (cache dir, default <repo>/.cache/kafka), KAFKA_PORT (9092),
#      KAFKA_CONTROLLER_PORT (9093), KAFKA_KEEP_DATA=1 (reuse the data dir instead of a fresh one),
#      KAFKA_START_TIMEOUT (seconds, 120), KAFKA_HEAP (512m),
#      KAFKA_LOG4J_CONFIG (log4j 1 properties file, default scripts/kafka/log4j.properties).
# Stdout: last line is KAFKA_BROKERS=127.0.0.1:<port>; all progress messages go to stderr.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CACHE="${KAFKA_HOME_DIR:-$REPO_ROOT/.cache/kafka}"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KEEP_DATA="${KAFKA_KEEP_DATA:-0}"
TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
HEAP="${KAFKA_HEAP:-512m}"

LIBS="$CACHE/libs"
DATA="$CACHE/data"
LOG="$CACHE/broker.log"
PIDFILE="$CACHE/broker.pid"
CONF="$CACHE/server.properties"

# Single source of truth for the version: the <kafka.version> property of pom.xml.
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$SCRIPT_DIR/pom.xml" | head -n1)"
MARKER="$LIBS/.fetched-kafka-$KAFKA_VERSION"

log() { echo "[kafka/start] $*" >&2; }
die() { echo "[kafka/start] ERROR: $*" >&2; exit 1; }

case "$PORT$CONTROLLER_PORT" in *[!0-9]*) die "KAFKA_PORT/KAFKA_CONTROLLER_PORT must be numbers";; esac
[ "$PORT" != "$CONTROLLER_PORT" ] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"
[ -n "$KAFKA_VERSION" ] || die "cannot read <kafka.version> from $SCRIPT_DIR/pom.xml"
command -v java >/dev/null || die "java not found on PATH (Java 17 required)"

mkdir -p "$CACHE"

# Serialise concurrent start/stop invocations on the same cache dir.
if command -v flock >/dev/null; then
  exec 9>"$CACHE/.lock"
  flock -w 300 9 || die "timed out waiting for lock $CACHE/.lock"
fi

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Is $1 a live (non-zombie) broker process started from this cache dir?
is_our_broker() {
  local pid="$1" state cmd
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [ "$state" != "Z" ] && [ -n "$state" ] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == *kafka.Kafka*"$CONF"* ]]
}

# wait_ready PID KILL_ON_TIMEOUT(1|0)
wait_ready() {
  local pid="$1" kill_on_timeout="${2:-1}" deadline=$((SECONDS + TIMEOUT))
  while :; do
    if ! is_our_broker "$pid"; then
      log "broker process $pid exited during startup; last log lines:"
      tail -n 60 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      exit 1
    fi
    if grep -q "Kafka Server started" "$LOG" 2>/dev/null && port_open "$PORT"; then
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "broker not ready after ${TIMEOUT}s; last log lines:"
      tail -n 60 "$LOG" >&2 || true
      if [ "$kill_on_timeout" = 1 ]; then
        log "killing broker process $pid"
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$PIDFILE"
      fi
      exit 1
    fi
    sleep 0.5
  done
}

# 1. Already running?
if [ -f "$PIDFILE" ]; then
  OLD_PID="$(cat "$PIDFILE" 2>/dev/null || true)"
  if is_our_broker "$OLD_PID"; then
    RUNNING_PORT="$(sed -n 's#^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*#\1#p' "$CONF" 2>/dev/null || true)"
    if [ -n "$RUNNING_PORT" ] && [ "$RUNNING_PORT" != "$PORT" ]; then
      die "a broker from $CACHE is already running on port $RUNNING_PORT (pid $OLD_PID), not $PORT; run scripts/kafka/stop.sh first"
    fi
    if port_open "$PORT"; then
      log "broker already running (pid $OLD_PID)"
      echo "KAFKA_BROKERS=127.0.0.1:$PORT"
      exit 0
    fi
    log "broker pid $OLD_PID is running but port $PORT does not answer yet; waiting"
    wait_ready "$OLD_PID" 0
    echo "KAFKA_BROKERS=127.0.0.1:$PORT"
    exit 0
  fi
  log "removing stale pid file (pid ${OLD_PID:-?} is not running)"
  rm -f "$PIDFILE"
fi

for p in "$PORT" "$CONTROLLER_PORT"; do
  if port_open "$p"; then
    die "port 127.0.0.1:$p is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
  fi
done

# 2. Fetch jars once per version.
if [ ! -f "$MARKER" ]; then
  command -v mvn >/dev/null || die "mvn not found on PATH (needed once to fetch the Kafka jars)"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
  t0=$SECONDS
  BUILD="$CACHE/build"
  rm -rf "$BUILD" "$LIBS.tmp"
  mkdir -p "$BUILD"
  cp "$SCRIPT_DIR/pom.xml" "$BUILD/pom.xml"
  (cd "$BUILD" && mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp") >"$CACHE/maven.log" 2>&1 \
    || { tail -n 40 "$CACHE/maven.log" >&2; die "maven fetch of Kafka $KAFKA_VERSION failed (see $CACHE/maven.log)"; }
  ls "$LIBS.tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"
  rm -rf "$LIBS" "$BUILD"
  mv "$LIBS.tmp" "$LIBS"
  echo "$KAFKA_VERSION" >"$MARKER"
  log "fetched $(ls "$LIBS"/*.jar | wc -l) jars in $((SECONDS - t0))s"
fi

# 3. Render server.properties.
sed -e "s#__DATA_DIR__#$DATA#g" -e "s#__PORT__#$PORT#g" -e "s#__CONTROLLER_PORT__#$CONTROLLER_PORT#g" \
  "$SCRIPT_DIR/server.properties.template" >"$CONF"

LOG_OPTS=(-Dlog4j.configuration="file:${KAFKA_LOG4J_CONFIG:-$SCRIPT_DIR/log4j.properties}" -Dkafka.logs.dir="$CACHE/logs")
CP="$LIBS/*"

# 4. Data dir: fresh unless KAFKA_KEEP_DATA=1; format only when not formatted yet.
if [ "$KEEP_DATA" != "1" ]; then
  rm -rf "$DATA"
fi
mkdir -p "$DATA" "$CACHE/logs"
if [ ! -f "$DATA/meta.properties" ]; then
  CLUSTER_ID="$(java "${LOG_OPTS[@]}" -cp "$CP" kafka.tools.StorageTool random-uuid 2>>"$CACHE/storage-tool.log")"
  [ -n "$CLUSTER_ID" ] || die "StorageTool random-uuid produced no id (see $CACHE/storage-tool.log)"
  java "${LOG_OPTS[@]}" -cp "$CP" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$CONF" \
    >>"$CACHE/storage-tool.log" 2>&1 \
    || { tail -n 30 "$CACHE/storage-tool.log" >&2; die "formatting $DATA failed"; }
  log "formatted $DATA (cluster id $CLUSTER_ID)"
else
  log "reusing data dir $DATA"
fi

# 5. Launch in the background, in its own session so it outlives this script's process group.
[ -f "$LOG" ] && mv -f "$LOG" "$LOG.1"
JAVA_OPTS=(-Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true)
SETSID=""
command -v setsid >/dev/null && SETSID="setsid"
t0=$SECONDS
# The wrapper shell writes its own pid and then execs java, so the pid file names the JVM.
$SETSID bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
  java "${JAVA_OPTS[@]}" "${LOG_OPTS[@]}" -cp "$CP" kafka.Kafka "$CONF" \
  </dev/null >"$LOG" 2>&1 9>&- &
disown $! 2>/dev/null || true
for _ in $(seq 1 50); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
PID="$(cat "$PIDFILE" 2>/dev/null || true)"
[ -n "$PID" ] || die "broker did not write its pid file"
log "started broker pid $PID (Kafka $KAFKA_VERSION, port $PORT, controller $CONTROLLER_PORT, log $LOG)"

wait_ready "$PID"
log "broker ready in $((SECONDS - t0))s"
echo "KAFKA_BROKERS=127.0.0.1:$PORT"
