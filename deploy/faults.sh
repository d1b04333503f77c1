#!/usr/bin/env bash
# The fault matrix (docs/OPERATIONS.md, "Fault matrix"): under an open-loop load of numbered
# requests (dh-bench's ledger), one fault per scenario, then the ledger of that scenario:
# answered once, twice, never, error answers, the worst answer delay, and the time from the
# end of the fault to the first success. Everything runs on this machine: a private Mosquitto
# from the shipped configuration (persistence as shipped, autosave lowered only if you set
# DH_FAULTS_AUTOSAVE), a PostgreSQL database made for the run, reached through dh-bench's
# proxy, and a SQLite file.
# Tunables: DH_FAULTS_RATE (200 requests/s), DH_FAULTS_SECONDS (16), DH_FAULTS_OUT
# (docs/faults), DH_FAULTS_ONLY (space-separated scenario names).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

build_for_measuring
BIN="$PWD/target/release"
DIR="$PWD/run-faults"
OUT="${DH_FAULTS_OUT:-$PWD/docs/faults}"
RATE="${DH_FAULTS_RATE:-200}"
SECS="${DH_FAULTS_SECONDS:-16}"
# The fault starts this many seconds into the run and lasts FAULT_SECS.
FAULT_AT=5
FAULT_SECS=3
rm -rf "$DIR" && mkdir -p "$DIR" "$OUT"

export DH_BENCH_CLIENT_PASSWORD="faults-client-pw" DH_BENCH_PASSWORD="faults-password"
export DH_BROKER_PASSWORD="$(openssl rand -hex 12)"
accounts=("dhplugin:$DH_BROKER_PASSWORD")
for i in $(seq -f %02g 1 16); do accounts+=("bench$i:$DH_BENCH_CLIENT_PASSWORD"); done
PORT=$(free_port_from 18930)
BROKER_DIR="$DIR/mosquitto"
start_private_broker "$BROKER_DIR" "$PORT" "${accounts[@]}"
if [ -n "${DH_FAULTS_AUTOSAVE:-}" ]; then
    sed -i "s/^autosave_interval .*/autosave_interval $DH_FAULTS_AUTOSAVE/" "$BROKER_DIR/mosquitto.conf"
fi
broker_pid() { cat "$BROKER_DIR/mosquitto.pid"; }
broker_start() {
    mosquitto -d -c "$BROKER_DIR/mosquitto.conf"
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return; sleep 0.05; done
}
export DH_BROKER_URL="tcp://127.0.0.1:$PORT" DH_BROKER_USERNAME=dhplugin RUST_LOG=info
export JWT_SECRET="$(openssl rand -hex 32)" DH_ACCESS_TOKEN_LIFETIME_SECS=86400

ensure_postgres
fresh_postgres_database dh_faults
PROXY_PORT=$(free_port_from 18960)
echo forward > "$DIR/proxy-mode"
"$BIN/dh-bench" proxy --listen "$PROXY_PORT" --to 127.0.0.1:5432 --mode-file "$DIR/proxy-mode" &
PROXY=$!
PG_URL="postgres://dh_faults:dh_faults@127.0.0.1:$PROXY_PORT/dh_faults"
SQLITE_URL="sqlite://$DIR/faults.sqlite"

# The service's pid lives in a file: the faults that restart it run in a subshell.
service_pid() { cat "$DIR/service.pid" 2>/dev/null; }
cleanup() {
    kill "$(service_pid)" 2>/dev/null || true
    kill "$PROXY" 2>/dev/null || true
    stop_private_broker "$BROKER_DIR"
}
trap cleanup EXIT

touch "$DIR/service.log"
ready_count() { grep -c 'ready: subscribed' "$DIR/service.log" || true; }
service_start() {
    local before
    before=$(ready_count)
    "$BIN/dh-mqtt-plugin" serve >> "$DIR/service.log" 2>&1 &
    echo $! > "$DIR/service.pid"
    for _ in $(seq 200); do
        [ "$(ready_count)" -gt "$before" ] && return
        sleep 0.05
    done
}
service_stop() {
    local pid
    pid=$(service_pid)
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

use_database() {
    export DATABASE_URL=$1
    "$BIN/dh-mqtt-plugin" migrate >/dev/null 2>&1
    "$BIN/dh-mqtt-plugin" user list 2>/dev/null | grep -q ' bench ' ||
        echo "$DH_BENCH_PASSWORD" | "$BIN/dh-mqtt-plugin" user add --login bench --role client >/dev/null
    export DH_BENCH_TOKEN=$("$BIN/dh-mqtt-plugin" token --login bench | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
}

now_ms() { date +%s%3N; }

# The fault of each scenario: it runs in the background of the load, FAULT_AT seconds in, and
# writes the epoch milliseconds at which the fault ended into $DIR/recovered.
fault() {
    sleep "$FAULT_AT"
    case $1 in
        broker-sigterm) kill -TERM "$(broker_pid)"; sleep 1; broker_start ;;
        broker-sigkill) kill -KILL "$(broker_pid)"; sleep 1; broker_start ;;
        service-sigkill) kill -KILL "$(service_pid)"; service_start ;;
        service-sigkill-3s) kill -KILL "$(service_pid)"; sleep 3; service_start ;;
        db-refused|db-cut|db-stalled)
            echo "${1#db-}" | sed 's/refused/refuse/; s/stalled/stall/' > "$DIR/proxy-mode"
            sleep "$FAULT_SECS"; echo forward > "$DIR/proxy-mode" ;;
        sqlite-lock) "$BIN/dh-bench" hold-lock --sqlite "$DIR/faults.sqlite" --seconds "$FAULT_SECS" ;;
    esac
    now_ms > "$DIR/recovered"
}

run_scenario() {
    local name=$1
    rm -f "$DIR/recovered"
    fault "$name" &
    local faulter=$!
    "$BIN/dh-bench" load --quiet --resilient --clients 16 --rate "$RATE" --mix get=3,update=1 \
        --warmup 0 --duration "$SECS" --timeout 20 --outcomes "$DIR/$name.csv" > "$DIR/$name.txt" 2>&1 || true
    wait "$faulter" || true
    ledger_row "$name" "$DIR/$name.csv" "$(cat "$DIR/recovered" 2>/dev/null || now_ms)"
}

ONLY="${DH_FAULTS_ONLY:-broker-sigterm broker-sigkill service-sigkill service-sigkill-3s db-refused db-cut db-stalled sqlite-lock}"
want() { [[ " $ONLY " == *" $1 "* ]]; }
{
    echo "Fault matrix, $(date -u +%Y-%m-%dT%H:%MZ), dh-mqtt-plugin $(git rev-parse --short HEAD 2>/dev/null || echo unknown)," \
        "$(nproc) cores, $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $1, $2, $3}'), $RATE requests/s (getCurrent 3 : updateCurrent 1)" \
        "over 16 clients for $SECS s; fault at ${FAULT_AT} s"
    echo
    echo "| scenario | sent | answered once | twice | never | error answers | worst delay | first success after the fault ended |"
    echo "|---|---|---|---|---|---|---|---|"
    use_database "$PG_URL"
    service_start
    for name in broker-sigterm broker-sigkill service-sigkill service-sigkill-3s db-refused db-cut db-stalled; do
        want "$name" && run_scenario "$name"
    done
    service_stop
    if want sqlite-lock; then
        use_database "$SQLITE_URL"
        service_start
        run_scenario sqlite-lock
        service_stop
    fi
} | tee "$OUT/table.md"
