#!/usr/bin/env bash
# user/list on a large table: 1,000,000 users (DH_BENCH_USERS) in a SQLite file and in a
# PostgreSQL database made for the run, then `dh-bench load --mix list` (pages of 20 among
# the first 1,000 users by id) with one request in flight (the latency of one page) and at
# 16 x 4 (throughput); then a loginPattern search and a count of the whole table, one in
# flight. A private Mosquitto from the shipped configuration on a free port.
# Results in bench/results/list-{sqlite,postgres}.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

build_for_measuring
BIN="$PWD/target/release"
DIR="$PWD/run-bench-list"
OUT="${DH_BENCH_OUT:-$PWD/bench/results}"
USERS="${DH_BENCH_USERS:-1000000}"
DURATION="${DH_BENCH_DURATION:-10}"
rm -rf "$DIR" && mkdir -p "$DIR" "$OUT"

start_bench_broker "$DIR/mosquitto" 18850
SERVICE=
trap '[ -n "$SERVICE" ] && kill $SERVICE 2>/dev/null; stop_private_broker "$DIR/mosquitto"' EXIT
export RUST_LOG=warn

run_backend() {
    local label=$1
    export DATABASE_URL=$2
    "$BIN/dh-mqtt-plugin" migrate 2>/dev/null
    # The listing needs ManageUser: the bench account is an administrator here.
    echo "$DH_BENCH_PASSWORD" | "$BIN/dh-mqtt-plugin" user add --login bench --role admin >/dev/null
    local start=$SECONDS
    "$BIN/dh-bench" seed-users --count "$USERS"
    echo "seeded $USERS users in $((SECONDS - start)) s"
    "$BIN/dh-mqtt-plugin" serve 2> "$DIR/service-$label.log" &
    SERVICE=$!
    sleep 1
    export DH_BENCH_TOKEN
    DH_BENCH_TOKEN=$("$BIN/dh-mqtt-plugin" token --login bench | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
    echo "## $label: user/list pages of 20, one request in flight"
    "$BIN/dh-bench" load --quiet --mix list --clients 1 --in-flight 1 --duration "$DURATION"
    echo "## $label: user/list pages of 20, 16 x 4"
    "$BIN/dh-bench" load --quiet --mix list --clients 16 --in-flight 4 --duration "$DURATION"
    echo "## $label: user/list with a loginPattern matching a few users (a scan), one in flight"
    "$BIN/dh-bench" load --quiet --mix search --clients 1 --in-flight 1 --duration "$DURATION"
    echo "## $label: user/count of every user, one in flight"
    "$BIN/dh-bench" load --quiet --mix count --clients 1 --in-flight 1 --duration "$DURATION"
    kill "$SERVICE"
    wait "$SERVICE" 2>/dev/null || true
    SERVICE=
}

run_backend sqlite "sqlite://$DIR/list.sqlite" | tee "$OUT/list-sqlite.txt"
ensure_postgres
fresh_postgres_database dh_bench_list
run_backend postgres "postgres://dh_bench_list:dh_bench_list@127.0.0.1:5432/dh_bench_list" | tee "$OUT/list-postgres.txt"
