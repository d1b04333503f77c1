# Shared by deploy/test.sh and deploy/setup-and-run.sh: root handling, Debian packages,
# the local PostgreSQL. Sourced, not run.

# Build dependencies: cmake and a C toolchain for the bundled Paho C, OpenSSL headers for its
# TLS support, libpq and libsqlite3 for diesel.
# mosquitto-dev, libmosquitto-dev and libclang-dev: the broker plugin's FFI is generated from
# Mosquitto's headers (plugin/build.rs).
BUILD_PACKAGES=(build-essential cmake pkg-config libssl-dev libpq-dev libsqlite3-dev
    mosquitto-dev libmosquitto-dev libclang-dev)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# Installs the Debian packages that are missing (apt-get update only when something is).
install_packages() {
    local missing=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

require_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: Rust is required (cargo 1.89 or newer on PATH); Debian's own rustc is too old." >&2
        exit 1
    fi
}

# For bench.sh and faults.sh: a role NAME (password NAME) and a new, empty database NAME it
# owns, on the local PostgreSQL.
fresh_postgres_database() {
    as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres -c "
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN
    CREATE ROLE $1 LOGIN PASSWORD '$1';
  END IF;
END \$\$;" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1 OWNER $1"
}

# For bench.sh and faults.sh: the packages a measuring run needs and a release build.
build_for_measuring() {
    require_cargo
    install_packages "${BUILD_PACKAGES[@]}" mosquitto mosquitto-clients postgresql openssl
    echo "==> building (release)"
    cargo build --release --locked --quiet
}

# Makes sure the local PostgreSQL accepts connections on 127.0.0.1:5432.
ensure_postgres() {
    if pg_isready -q -h 127.0.0.1 -p 5432; then
        return
    fi
    echo "==> starting PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster "$version" main start || as_root systemctl start postgresql
    for _ in $(seq 50); do
        pg_isready -q -h 127.0.0.1 -p 5432 && return
        sleep 0.2
    done
    echo "error: PostgreSQL does not accept connections on 127.0.0.1:5432" >&2
    exit 1
}

# The first free TCP port on 127.0.0.1 at or above $1.
free_port_from() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    echo "$port"
}

# Starts a private Mosquitto from the shipped deploy/mosquitto files in DIR on 127.0.0.1:PORT,
# with the accounts given as user:password arguments. $EXTRA_ACL: an ACL for topics outside dh/.
# It runs as the calling user (Mosquitto would otherwise switch to `mosquitto`, which may not
# be able to read DIR); stop it with stop_private_broker DIR.
start_private_broker() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    sed -e "s|^listener .*|listener $port 127.0.0.1|" \
        -e "s|^password_file .*|password_file $dir/passwd|" \
        -e "s|^plugin .*|plugin ${PLUGIN_SO:-$PWD/target/release/libdh_mqtt_plugin_broker.so}|" \
        deploy/mosquitto/dh-mqtt-plugin.conf > "$dir/mosquitto.conf"
    printf 'persistence_location %s/\npid_file %s/mosquitto.pid\nlog_dest file %s/mosquitto.log\nuser %s\n' \
        "$dir" "$dir" "$dir" "$(id -un)" >> "$dir/mosquitto.conf"
    # Rules for topics outside dh/ (the plugin leaves those to the broker).
    if [ -n "${EXTRA_ACL:-}" ]; then
        printf '%s\n' "$EXTRA_ACL" > "$dir/acl"
        echo "acl_file $dir/acl" >> "$dir/mosquitto.conf"
    fi
    printf '%s\n' "$@" > "$dir/passwd"
    mosquitto_passwd -U "$dir/passwd"
    mosquitto -d -c "$dir/mosquitto.conf"
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
        sleep 0.1
    done
    echo "error: Mosquitto did not start; see $dir/mosquitto.log" >&2
    exit 1
}

# For the benchmark scripts: a private broker in DIR on the first free port from FIRST_PORT
# with the service's account `dhplugin` and bench01..bench16, and the environment the
# service, the CLI and dh-bench read (broker, passwords, a fresh JWT secret). Sets PORT.
start_bench_broker() {
    local dir=$1 first_port=$2
    export DH_BENCH_CLIENT_PASSWORD="bench-client-pw" DH_BENCH_PASSWORD="bench-password"
    export DH_BROKER_PASSWORD="$(openssl rand -hex 12)"
    local accounts=("dhplugin:$DH_BROKER_PASSWORD")
    for i in $(seq -f %02g 1 16); do accounts+=("bench$i:$DH_BENCH_CLIENT_PASSWORD"); done
    PORT=$(free_port_from "$first_port")
    start_private_broker "$dir" "$PORT" "${accounts[@]}"
    export DH_BROKER_URL="tcp://127.0.0.1:$PORT" DH_BROKER_USERNAME=dhplugin
    export JWT_SECRET="$(openssl rand -hex 32)" DH_ACCESS_TOKEN_LIFETIME_SECS=86400
}

stop_private_broker() {
    [ -f "$1/mosquitto.pid" ] && kill "$(cat "$1/mosquitto.pid")" 2>/dev/null || true
}

# One line of a ledger table (faults.sh, instances.sh) from a dh-bench outcomes file: NAME CSV
# RECOVERED_MS (the epoch ms at which the fault ended).
ledger_row() {
    local name=$1 csv=$2 recovered=$3
    awk -F, -v name="$name" -v rec="$recovered" '
        NR == 1 { next }
        { sent++ }
        $4 == 1 { once++ } $4 >= 2 { twice++ } $4 == 0 { never++ }
        $3 != "" && $5 != 0 { errors[$5]++ }
        $3 != "" { d = $3 - $2; if (d > worst) worst = d }
        $3 != "" && $5 == 0 && $3 >= rec && (first == "" || $3 < first) { first = $3 }
        END {
            e = ""; for (c in errors) e = e (e == "" ? "" : ", ") errors[c] " x " c
            if (e == "") e = "none"
            back = (first == "" ? "never" : sprintf("%.2f s", (first - rec) / 1000))
            printf "| %s | %d | %d | %d | %d | %s | %.2f s | %s |\n", name, sent, once, twice, never, e, worst / 1000, back
        }' "$csv"
}
