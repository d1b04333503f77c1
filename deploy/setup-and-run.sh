#!/usr/bin/env bash
# Sets up and runs dh-mqtt-plugin on the embedded defaults: a SQLite file and a private
# Mosquitto started from the shipped deploy/mosquitto files with the project's broker plugin.
# Everything it creates lives in ./run (secrets, database, broker). It creates a `demo` device
# (one account: the plugin logs it in with its DeviceHive login and password), prints how to
# try a request with mosquitto_rr, and runs the service in the foreground until Ctrl-C.
# A system Mosquitto on 1883 is left alone: the private broker takes the first free port
# from ${DH_MQTT_PORT:-1883}.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

require_cargo
install_packages "${BUILD_PACKAGES[@]}" mosquitto mosquitto-clients openssl
echo "==> building (release: the service, dh-bench and the broker plugin)"
cargo build --release --locked --quiet
BIN="$PWD/target/release/dh-mqtt-plugin"

RUN="$PWD/run"
mkdir -p "$RUN/mosquitto"
chmod 700 "$RUN"
# Secrets are made once and kept, so tokens and accounts survive a re-run.
if [ ! -f "$RUN/secrets.env" ]; then
    umask 077
    {
        echo "JWT_SECRET=$(openssl rand -hex 32)"
        echo "DH_BROKER_PASSWORD=$(openssl rand -hex 16)"
        echo "DEMO_USER_PASSWORD=$(openssl rand -hex 8)"
    } > "$RUN/secrets.env"
    umask 022
fi
set -a
source "$RUN/secrets.env"
set +a
export DH_BROKER_USERNAME=dhplugin

PORT=$(free_port_from "${DH_MQTT_PORT:-1883}")
export DH_BROKER_URL="tcp://127.0.0.1:$PORT"
echo "==> starting Mosquitto on 127.0.0.1:$PORT"
start_private_broker "$RUN/mosquitto" "$PORT" "dhplugin:$DH_BROKER_PASSWORD"
trap 'stop_private_broker "$RUN/mosquitto"' EXIT

# The service's working directory holds the default SQLite file (dh-mqtt-plugin.sqlite).
cd "$RUN"
"$BIN" migrate
if ! "$BIN" token --login demo >/dev/null 2>&1; then
    echo "$DEMO_USER_PASSWORD" | "$BIN" user add --login demo --role client >/dev/null
else
    # Setting the password (again) writes its broker login, also for a ./run made before.
    echo "$DEMO_USER_PASSWORD" | "$BIN" user passwd --login demo >/dev/null
fi
"$BIN" token --login demo | sed -E 's/.*"accessToken":"([^"]+)".*/\1/' > "$RUN/demo-token.txt"

cat <<HELP

dh-mqtt-plugin is starting (Ctrl-C stops it and the broker). In another terminal, log in
as the demo device with MQTT alone, its login and password being all it has (each line is
one request and its answer):

  # 1. password -> access and refresh tokens
  mosquitto_rr -p $PORT -u demo -P $DEMO_USER_PASSWORD -W 5 -t dh/request/demo -e 'dh/response/token@demo' \\
    -m '{"action":"token","requestId":1,"login":"demo","password":"$DEMO_USER_PASSWORD"}'
  # 2. bind the access token to the client id (paste the accessToken from step 1)
  mosquitto_rr -p $PORT -u demo -P $DEMO_USER_PASSWORD -W 5 -t dh/request/demo -e 'dh/response/authenticate@demo' \\
    -m '{"action":"authenticate","requestId":2,"token":"ACCESS_TOKEN"}'
  # 3. requests without a token now use the session
  mosquitto_rr -p $PORT -u demo -P $DEMO_USER_PASSWORD -W 5 -t dh/request/demo -e 'dh/response/user/getCurrent@demo' \\
    -m '{"action":"user/getCurrent","requestId":3}'

Or in one go, with a token minted by the operator tool:

  mosquitto_rr -p $PORT -u demo -P $DEMO_USER_PASSWORD -W 5 -t dh/request/demo -e 'dh/response/user/getCurrent@demo' \\
    -m "{\\"action\\":\\"user/getCurrent\\",\\"requestId\\":1,\\"token\\":\\"\$(cat $RUN/demo-token.txt)\\"}"

HELP
"$BIN" serve
