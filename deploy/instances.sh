#!/usr/bin/env bash
# Three instances in one share group on a private Mosquitto (from the shipped configuration)
# and a PostgreSQL database made for the run, under an open-loop load of numbered requests
# (dh-bench's ledger): token-less getCurrent on the session each connection bound with
# `authenticate`, and updateCurrent with a token. One scenario per run, then its ledger:
#   rolling-restart  SIGTERM one instance, start it again, wait until it is ready, the next
#   sigkill-keeper   SIGKILL the instance holding the keeper session, never restarted
#   sigkill-other    SIGKILL an instance that does not hold it, never restarted
#   all-stopped      SIGTERM all three, wait 3 s while requests are published, start one
# Tunables: DH_INSTANCES_RATE (200 requests/s), DH_INSTANCES_SECONDS (16), DH_INSTANCES_OUT
# (docs/instances), DH_INSTANCES_ONLY (space-separated scenario names).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

build_for_measuring
BIN="$PWD/target/release"
DIR="$PWD/run-instances"
OUT="${DH_INSTANCES_OUT:-$PWD/docs/instances}"
RATE="${DH_INSTANCES_RATE:-200}"
SECS="${DH_INSTANCES_SECONDS:-16}"
FAULT_AT=4
NAMES=(a b c)
rm -rf "$DIR" && mkdir -p "$DIR" "$OUT"

export DH_BENCH_CLIENT_PASSWORD="instances-client-pw" DH_BENCH_PASSWORD="instances-password"
export DH_BROKER_PASSWORD="$(openssl rand -hex 12)"
accounts=("dhplugin:$DH_BROKER_PASSWORD")
for name in "${NAMES[@]}"; do accounts+=("dhplugin-$name:$DH_BROKER_PASSWORD"); done
for i in $(seq -f %02g 1 16); do accounts+=("bench$i:$DH_BENCH_CLIENT_PASSWORD"); done
PORT=$(free_port_from 18990)
BROKER_DIR="$DIR/mosquitto"
# The plugin covers dhplugin-a, dhplugin-a-2, ... through plugin_opt_service_accounts dhplugin.
PLUGIN_SO="$BIN/libdh_mqtt_plugin_broker.so" start_private_broker "$BROKER_DIR" "$PORT" "${accounts[@]}"
export DH_BROKER_URL="tcp://127.0.0.1:$PORT" DH_BROKER_USERNAME=dhplugin RUST_LOG=info
export JWT_SECRET="$(openssl rand -hex 32)" DH_ACCESS_TOKEN_LIFETIME_SECS=86400

ensure_postgres
fresh_postgres_database dh_instances
export DATABASE_URL="postgres://dh_instances:dh_instances@127.0.0.1:5432/dh_instances"
"$BIN/dh-mqtt-plugin" migrate >/dev/null
echo "$DH_BENCH_PASSWORD" | "$BIN/dh-mqtt-plugin" user add --login bench --role client >/dev/null
export DH_BENCH_TOKEN=$("$BIN/dh-mqtt-plugin" token --login bench | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')

pid_of() { cat "$DIR/$1.pid" 2>/dev/null; }
ready_count() { grep -c 'ready: subscribed' "$DIR/$1.log" 2>/dev/null || true; }
start_instance() {
    local before
    before=$(ready_count "$1")
    DH_INSTANCE=$1 "$BIN/dh-mqtt-plugin" serve >> "$DIR/$1.log" 2>&1 &
    echo $! > "$DIR/$1.pid"
    for _ in $(seq 200); do
        [ "$(ready_count "$1")" -gt "$before" ] && return
        sleep 0.05
    done
}
stop_instance() {
    local pid
    pid=$(pid_of "$1") || return 0
    kill "$2" "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$DIR/$1.pid"
}
# The instance whose log last says it took the keeper over (and that still runs).
keeper_holder() {
    for name in "${NAMES[@]}"; do
        [ -f "$DIR/$name.pid" ] && grep -q 'now holds the keeper session' "$DIR/$name.log" && echo "$name" && return
    done
}
cleanup() {
    for name in "${NAMES[@]}"; do stop_instance "$name" -KILL; done
    stop_private_broker "$BROKER_DIR"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

fault() {
    sleep "$FAULT_AT"
    case $1 in
        rolling-restart)
            for name in "${NAMES[@]}"; do stop_instance "$name" -TERM; start_instance "$name"; sleep 1; done ;;
        sigkill-keeper) stop_instance "$(keeper_holder)" -KILL ;;
        sigkill-other)
            for name in "${NAMES[@]}"; do
                [ "$name" != "$(keeper_holder)" ] && { stop_instance "$name" -KILL; break; }
            done ;;
        all-stopped)
            for name in "${NAMES[@]}"; do stop_instance "$name" -TERM & done; wait
            sleep 3; start_instance b ;;
    esac
    now_ms > "$DIR/recovered"
}

run_scenario() {
    local name=$1
    for n in "${NAMES[@]}"; do stop_instance "$n" -TERM; : > "$DIR/$n.log"; done
    for n in "${NAMES[@]}"; do start_instance "$n"; done
    sleep 1
    rm -f "$DIR/recovered"
    fault "$name" &
    local faulter=$!
    "$BIN/dh-bench" load --quiet --clients 16 --rate "$RATE" --mix session=3,update=1 \
        --warmup 0 --duration "$SECS" --timeout 20 --outcomes "$DIR/$name.csv" > "$DIR/$name.txt" 2>&1 || true
    wait "$faulter" || true
    ledger_row "$name" "$DIR/$name.csv" "$(cat "$DIR/recovered" 2>/dev/null || now_ms)"
}

ONLY="${DH_INSTANCES_ONLY:-rolling-restart sigkill-keeper sigkill-other all-stopped}"
{
    echo "Three instances, $(date -u +%Y-%m-%dT%H:%MZ), dh-mqtt-plugin $(git rev-parse --short HEAD 2>/dev/null || echo unknown)," \
        "$(nproc) cores, $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $1, $2, $3}'), PostgreSQL, $RATE requests/s" \
        "(session getCurrent 3 : updateCurrent 1) over 16 clients for $SECS s; fault at ${FAULT_AT} s"
    echo
    echo "| scenario | sent | answered once | twice | never | error answers | worst delay | first success after the fault ended |"
    echo "|---|---|---|---|---|---|---|---|"
    for name in $ONLY; do run_scenario "$name"; done
} | tee "$OUT/table.md"
