#!/usr/bin/env bash
# The benchmark page's figures: `dh-bench compare` (P1–P4: echo vs service, alternating rounds)
# on SQLite and on PostgreSQL, then P5 (login flood) and P6 (4 × concurrency, 5,000-request
# burst). Everything runs on this machine: a private Mosquitto from the shipped configuration
# on a free port, a SQLite file and a PostgreSQL database made for the run.
# Then P7: a 10-minute soak at half the service's ceiling (ten 60-second open-loop runs on one
# running service, its RSS read between them).
# Tunables: DH_BENCH_ROUNDS (5), DH_BENCH_DURATION (10 s), DH_BENCH_OUT (bench/results),
# DH_BENCH_SECTIONS ("compare p5p6 p7"), DH_BENCH_SOAK_MINUTES (10).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

build_for_measuring
BIN="$PWD/target/release"
DIR="$PWD/run-bench"
OUT="${DH_BENCH_OUT:-$PWD/bench/results}"
ROUNDS="${DH_BENCH_ROUNDS:-5}"
DURATION="${DH_BENCH_DURATION:-10}"
rm -rf "$DIR" && mkdir -p "$DIR" "$OUT"

export DH_BENCH_CLIENT_PASSWORD="bench-client-pw" DH_BENCH_PASSWORD="bench-password"
export DH_BROKER_PASSWORD="$(openssl rand -hex 12)" DH_BENCH_MONITOR_PASSWORD="$(openssl rand -hex 12)"
# The default configuration (one broker connection) unless DH_BROKER_CONNECTIONS says
# otherwise; echo reads the same variable. On this 2-core machine a second connection cost
# the service 6-8 % of its getCurrent throughput (docs/PERFORMANCE.md, "Broker connections").
export DH_BROKER_CONNECTIONS="${DH_BROKER_CONNECTIONS:-1}"
accounts=("benchmon:$DH_BENCH_MONITOR_PASSWORD")
accounts+=("dhplugin:$DH_BROKER_PASSWORD")
for k in $(seq 2 "$DH_BROKER_CONNECTIONS"); do
    accounts+=("dhplugin-$k:$DH_BROKER_PASSWORD")
done
for i in $(seq -f %02g 1 64); do accounts+=("bench$i:$DH_BENCH_CLIENT_PASSWORD"); done
PORT=$(free_port_from 18830)
EXTRA_ACL=$'user benchmon\ntopic read $SYS/#' start_private_broker "$DIR/mosquitto" "$PORT" "${accounts[@]}"
trap 'stop_private_broker "$DIR/mosquitto"' EXIT
export DH_BROKER_URL="tcp://127.0.0.1:$PORT" DH_BROKER_USERNAME=dhplugin RUST_LOG=warn
export JWT_SECRET="$(openssl rand -hex 32)" DH_ACCESS_TOKEN_LIFETIME_SECS=86400

{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
    echo "mosquitto: $(mosquitto -h 2>/dev/null | head -n 1)"
    echo "postgresql: $(psql --version)"
    echo "sqlite: $(dpkg-query -W -f '${Version}' libsqlite3-0)"
    echo "postgresql autovacuum: $(as_postgres psql -Atc 'SHOW autovacuum' 2>/dev/null || echo unknown)"
    echo "dh-mqtt-plugin: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "broker connections (service and echo): $DH_BROKER_CONNECTIONS"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"

prepare_db() {
    export DATABASE_URL=$1
    "$BIN/dh-mqtt-plugin" migrate 2>/dev/null
    echo "$DH_BENCH_PASSWORD" | "$BIN/dh-mqtt-plugin" user add --login bench --role client >/dev/null
}

SECTIONS="${DH_BENCH_SECTIONS:-compare p5p6 p7}"
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

if want compare; then
    echo "==> SQLite"
    prepare_db "sqlite://$DIR/bench.sqlite"
    "$BIN/dh-bench" compare --label SQLite --out "$OUT/sqlite" --rounds "$ROUNDS" --duration "$DURATION" --quiet
fi

echo "==> PostgreSQL"
ensure_postgres
fresh_postgres_database dh_bench
prepare_db "postgres://dh_bench:dh_bench@127.0.0.1:5432/dh_bench"
# Every bench connection logs in as the same user, so the update runs rewrite one row tens of
# thousands of times. A default server's autovacuum clears the dead versions; where it is off
# (as on the machine of the published figures), a VACUUM every 10 s stands in for it, or each
# read of that row would wade through the dead versions of the runs before.
VACUUMER=
if [ "$(as_postgres psql -Atc 'SHOW autovacuum')" != "on" ]; then
    echo "autovacuum is off: VACUUM dh_user every 10 s during the PostgreSQL runs"
    # One psql session for the whole run: starting one every 10 s (a process, a login, a forked
    # backend) on this 2-core machine was itself a disturbance. In ten 10-s P4-like runs, 3 had
    # a second with p99 > 20 ms, 2 of them at a VACUUM; with one session, 1 in twelve, not at one.
    ( while sleep 10; do echo "VACUUM dh_user;"; done ) > >(as_postgres psql -q -d dh_bench >/dev/null 2>&1) &
    VACUUMER=$!
    trap 'kill $VACUUMER 2>/dev/null; stop_private_broker "$DIR/mosquitto"' EXIT
fi
if want compare; then
    "$BIN/dh-bench" compare --label PostgreSQL --out "$OUT/postgres" --rounds "$ROUNDS" --duration "$DURATION" --quiet
fi

echo "==> P5 and P6 (PostgreSQL)"
"$BIN/dh-mqtt-plugin" serve 2> "$DIR/service.log" &
SERVICE=$!
trap 'kill $SERVICE $VACUUMER 2>/dev/null; wait $SERVICE 2>/dev/null; stop_private_broker "$DIR/mosquitto"' EXIT
TOKEN=$(cd "$DIR" && "$BIN/dh-mqtt-plugin" token --login bench | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
export DH_BENCH_TOKEN="$TOKEN"
sleep 1
load() { "$BIN/dh-bench" load --quiet "$@"; }
want p5p6 && {
    # P5 alternates: getCurrent alone, then during a flood of logins for an unknown login (each
    # an Argon2 verification), ROUNDS times; the ratio is the median of the rounds' own ratios.
    echo "## P5 getCurrent (bench01-16, 16 x 4) alone and during a login flood (bench17-32, 16 x 4, unknown login)"
    ratios=()
    for round in $(seq "$ROUNDS"); do
        alone=$(load --clients 16 --in-flight 4 --mix get --duration "$DURATION" | awk '/throughput/ {print $2}')
        load --clients 16 --in-flight 4 --mix badlogin --first-client 17 --login nobody \
            --duration $((DURATION + 2)) > "$DIR/flood.txt" 2>&1 &
        FLOOD=$!
        sleep 1
        under=$(load --clients 16 --in-flight 4 --mix get --duration "$DURATION" | awk '/throughput/ {print $2}')
        wait $FLOOD || true
        ratio=$(awk -v a="$alone" -v u="$under" 'BEGIN {printf "%.2f", u / a}')
        ratios+=("$ratio")
        echo "round $round: alone $alone/s, during the flood $under/s, ratio $ratio;" \
            "flood $(awk '/throughput/ {print $2}' "$DIR/flood.txt") answers/s," \
            "$(grep -o 'errors {[^}]*}' "$DIR/flood.txt"), $(grep -o 'missing [0-9]*' "$DIR/flood.txt")"
    done
    echo "P5 median ratio: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}') (rounds: ${ratios[*]})"
    echo "## P6 getCurrent, 64 clients x 4 in flight"
    load --clients 64 --in-flight 4 --mix get --duration "$DURATION"
    echo "## P6 a burst of 5000 getCurrent at once over 64 clients"
    load --clients 64 --burst 5000 --mix get --warmup 0 --duration 0
} | tee "$OUT/p5-p6.txt"

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$SERVICE/status"; }
want p7 && {
    # The ceiling is the median of three closed-loop runs: one run caught at a fast moment of
    # this machine's drift would set a "half" that is more than half most of the time.
    CEILING=$(for _ in 1 2 3; do
        load --clients 16 --in-flight 4 --mix get --duration "$DURATION" | awk '/throughput/ {print $2}'
    done | sort -n | sed -n 2p)
    RATE=$((CEILING / 2))
    mkdir -p "$OUT/p7-seconds"
    echo "## P7 soak: getCurrent open loop at $RATE/s (half of $CEILING/s, median of 3), ${DH_BENCH_SOAK_MINUTES:-10} x 60 s"
    for minute in $(seq "${DH_BENCH_SOAK_MINUTES:-10}"); do
        SECONDS_CSV="$OUT/p7-seconds/minute-$minute.csv"
        RUN=$(load --clients 16 --rate "$RATE" --mix get --duration 60 --warmup 0 --timeline "$SECONDS_CSV")
        # A minute with 503s or a lower throughput than asked was an overloaded one; the
        # seconds file shows whether its p99 came from a few slow seconds or from all of them.
        echo "minute $minute: $(awk '/throughput/ {printf "%s/s", $2} /latency/ {printf ", p99 %s ms, max %s ms", $8, $12}' <<< "$RUN")," \
            "$(grep -o 'errors {[^}]*}' <<< "$RUN"), seconds with p99 > 20 ms: $(awk -F, 'NR > 1 && $6 > 20' "$SECONDS_CSV" | wc -l)," \
            "service RSS $(rss_kib) KiB"
    done
} | tee "$OUT/p7.txt"
true
