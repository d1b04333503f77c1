#!/usr/bin/env bash
# A reconnect storm against a running getCurrent load (docs/PERFORMANCE.md, "Reconnect
# storm"): a private Mosquitto from the shipped configuration with the plugin, the service on
# SQLite, DH_STORM_DEVICES (1000) users with broker logins. Two loads of 16 x 4 getCurrent
# for DH_BENCH_DURATION seconds (15): one alone, one while `dh-bench storm` connects every
# device at once and disconnects them again, DH_STORM_ROUNDS (5) times. Prints both loads'
# reports, the storm's rounds and the worst per-second p99 of each load.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

build_for_measuring
BIN="$PWD/target/release"
DIR="$PWD/run-bench-storm"
DEVICES="${DH_STORM_DEVICES:-1000}"
ROUNDS="${DH_STORM_ROUNDS:-5}"
DURATION="${DH_BENCH_DURATION:-15}"
rm -rf "$DIR" && mkdir -p "$DIR"
# A thousand connections need more descriptors than the default 1024 (broker and tool).
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true

start_bench_broker "$DIR/mosquitto" 18910
SERVICE=
trap '[ -n "$SERVICE" ] && kill $SERVICE 2>/dev/null; stop_private_broker "$DIR/mosquitto"' EXIT
export RUST_LOG=info DATABASE_URL="sqlite://$DIR/dh.sqlite"
"$BIN/dh-mqtt-plugin" migrate >/dev/null 2>&1
echo "$DH_BENCH_PASSWORD" | "$BIN/dh-mqtt-plugin" user add --login bench --role client >/dev/null 2>&1
export DH_BENCH_TOKEN
DH_BENCH_TOKEN=$("$BIN/dh-mqtt-plugin" token --login bench 2>/dev/null | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
"$BIN/dh-bench" seed-users --count "$DEVICES" --prefix storm --broker-password storm-password
"$BIN/dh-mqtt-plugin" serve > "$DIR/service.log" 2>&1 &
SERVICE=$!
for _ in $(seq 200); do grep -q 'broker plugin told' "$DIR/service.log" && break; sleep 0.05; done

worst_p99() { awk -F, 'NR > 2 && $6 > w { w = $6 } END { printf "%.2f ms\n", w }' "$1"; }

echo "## getCurrent 16 x 4 alone"
"$BIN/dh-bench" load --quiet --mix get=1 --clients 16 --in-flight 4 --duration "$DURATION" \
    --timeline "$DIR/alone.csv" | tee "$DIR/alone.txt"
echo "worst per-second p99: $(worst_p99 "$DIR/alone.csv")"

echo "## getCurrent 16 x 4 during $ROUNDS storms of $DEVICES devices"
"$BIN/dh-bench" load --quiet --mix get=1 --clients 16 --in-flight 4 --duration "$DURATION" \
    --timeline "$DIR/storm.csv" > "$DIR/storm-load.txt" &
LOAD=$!
sleep 2
"$BIN/dh-bench" storm --prefix storm --devices "$DEVICES" --password storm-password \
    --rounds "$ROUNDS" --pause 0.5 | tee "$DIR/storm.txt"
wait "$LOAD"
cat "$DIR/storm-load.txt"
echo "worst per-second p99: $(worst_p99 "$DIR/storm.csv")"
grep -c 'refusing client' "$DIR/mosquitto/mosquitto.log" | sed 's/^/plugin refusals in the broker log: /' || true
