#!/usr/bin/env bash
# Sessions from the database against tokens (docs/PERFORMANCE.md, "Sessions"), one instance,
# SQLite and a PostgreSQL database made for the run, a private Mosquitto from the shipped
# configuration. Alternating rounds of 16 x 4 user/getCurrent:
#   token     with a token in every request (P1)
#   session   without one, on the session each connection bound with `authenticate`
#   baseline  P1 against the binary in DH_BENCH_BASELINE (a build of an earlier commit), if set
#   metrics   P1 with Prometheus metrics on (DH_METRICS_LISTEN), scraped every second
# (the kinds of DH_BENCH_KINDS, default "token session", plus baseline when set), first with
# 64 users and 64 sessions, then with 1,000,000 users and 100,000 sessions (DH_BENCH_USERS,
# DH_BENCH_SESSIONS; DH_BENCH_USERS=0 skips them), with the service's peak RSS per round.
# Results in bench/results/NAME-{sqlite,postgres}.txt (DH_BENCH_NAME, default sessions).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

build_for_measuring
BIN="$PWD/target/release"
BASELINE="${DH_BENCH_BASELINE:-}"
DIR="$PWD/run-bench-sessions"
OUT="${DH_BENCH_OUT:-$PWD/bench/results}"
USERS="${DH_BENCH_USERS:-1000000}"
SESSIONS="${DH_BENCH_SESSIONS:-100000}"
ROUNDS="${DH_BENCH_ROUNDS:-3}"
DURATION="${DH_BENCH_DURATION:-10}"
NAME="${DH_BENCH_NAME:-sessions}"
rm -rf "$DIR" && mkdir -p "$DIR" "$OUT"

start_bench_broker "$DIR/mosquitto" 18870
METRICS_PORT=$(free_port_from 19464)
SERVICE=
trap '[ -n "$SERVICE" ] && kill $SERVICE 2>/dev/null; stop_private_broker "$DIR/mosquitto"' EXIT
export RUST_LOG=info

serve() {
    "$1" serve > "$DIR/service.log" 2>&1 &
    SERVICE=$!
    for _ in $(seq 200); do grep -q 'ready: subscribed' "$DIR/service.log" && return; sleep 0.05; done
    echo "error: the service did not start; see $DIR/service.log" >&2
    exit 1
}
stop() { kill "$SERVICE"; wait "$SERVICE" 2>/dev/null || true; SERVICE=; }

# One round: answers/s of `dh-bench load --mix MIX` at 16 x 4 against BINARY.
round() {
    local binary=$1 mix=$2
    serve "$binary"
    local scraper=
    if [ -n "${DH_METRICS_LISTEN:-}" ]; then
        while :; do
            (exec 3<>"/dev/tcp/${DH_METRICS_LISTEN%:*}/${DH_METRICS_LISTEN#*:}" &&
                printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3 >/dev/null) 2>/dev/null || true
            sleep 1
        done &
        scraper=$!
    fi
    "$BIN/dh-bench" load --quiet --mix "$mix" --clients 16 --in-flight 4 --duration "$DURATION" > "$DIR/round.txt"
    sed -nE 's/^throughput ([0-9]+) answers.*/\1/p' "$DIR/round.txt"
    if grep -qE 'errors \{[^}]+\}|missing [1-9]' "$DIR/round.txt"; then
        echo "error: a round had failed requests:" >&2; cat "$DIR/round.txt" >&2; exit 1
    fi
    awk '/VmHWM/ {print $2}' "/proc/$SERVICE/status" >> "$DIR/rss.txt"
    [ -n "$scraper" ] && kill "$scraper"
    stop
}

rounds() {
    local title=$1
    echo "## $title: answers/s, 16 x 4 getCurrent, alternating rounds"
    local kinds
    read -ra kinds <<< "${DH_BENCH_KINDS:-token session}"
    [ -n "$BASELINE" ] && kinds+=(baseline)
    printf '| round |'; printf ' %s |' "${kinds[@]}"; printf ' largest peak RSS of the round |\n'
    printf '|---|'; for _ in "${kinds[@]}"; do printf -- '---|'; done; printf -- '---|\n'
    for r in $(seq "$ROUNDS"); do
        local row="| $r |"
        : > "$DIR/rss.txt"
        for kind in "${kinds[@]}"; do
            case $kind in
                token) row="$row $(round "$BIN/dh-mqtt-plugin" get) |" ;;
                session) row="$row $(round "$BIN/dh-mqtt-plugin" session) |" ;;
                baseline) row="$row $(round "$BASELINE" get) |" ;;
                metrics) row="$row $(DH_METRICS_LISTEN=127.0.0.1:$METRICS_PORT round "$BIN/dh-mqtt-plugin" get) |" ;;
            esac
        done
        echo "$row $(sort -n "$DIR/rss.txt" | tail -n 1) KiB |"
    done | tee "$DIR/rows.txt"
    # Columns: "", round, the kinds..., RSS, "".
    awk -F'|' -v kinds="${kinds[*]}" '
        { for (i = 3; i <= NF - 2; i++) sum[i] += $i; n++ }
        END {
            split(kinds, k, " ")
            printf "\nmean:"; for (i = 3; i <= NF - 2; i++) printf " %s %.0f", k[i - 2], sum[i] / n
            for (i = 4; i <= NF - 2; i++) printf "; %s/%s %.3f", k[i - 2], k[1], sum[i] / sum[3]
            printf "\n\n"
        }' "$DIR/rows.txt"
}

run_backend() {
    local label=$1
    export DATABASE_URL=$2
    "$BIN/dh-mqtt-plugin" migrate 2>/dev/null
    echo "$DH_BENCH_PASSWORD" | "$BIN/dh-mqtt-plugin" user add --login bench --role client >/dev/null 2>&1
    export DH_BENCH_TOKEN
    DH_BENCH_TOKEN=$("$BIN/dh-mqtt-plugin" token --login bench 2>/dev/null | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
    # 64 users and 64 sessions: bench, 63 more users; 16 sessions of the load, 48 more.
    "$BIN/dh-bench" seed-users --count 63
    "$BIN/dh-bench" seed-sessions --count 48 --users 64
    rounds "$label, 64 users and 64 sessions"
    [ "$USERS" -gt 0 ] || return 0
    local start=$SECONDS
    "$BIN/dh-bench" seed-users --count "$((USERS - 64))" --prefix large
    "$BIN/dh-bench" seed-sessions --count "$((SESSIONS - 64))" --users "$USERS" --prefix large
    echo "seeded to $USERS users and $SESSIONS sessions in $((SECONDS - start)) s"
    BASELINE_SAVED=$BASELINE BASELINE=
    rounds "$label, $USERS users and $SESSIONS sessions"
    BASELINE=$BASELINE_SAVED
}

run_backend sqlite "sqlite://$DIR/sessions.sqlite" | tee "$OUT/$NAME-sqlite.txt"
ensure_postgres
fresh_postgres_database dh_bench_sessions
run_backend postgres "postgres://dh_bench_sessions:dh_bench_sessions@127.0.0.1:5432/dh_bench_sessions" | tee "$OUT/$NAME-postgres.txt"
