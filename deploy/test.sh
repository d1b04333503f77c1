#!/usr/bin/env bash
# Sets up a Debian machine for the test suite and runs it: the packages (Mosquitto,
# PostgreSQL, build dependencies, prometheus for promtool), a running PostgreSQL with a
# `dh_test` role that may create databases, then the unit's checks, formatting, lints,
# `cargo test`, and the Debian package built and checked by lintian (deploy/deb.sh). The tests start their own Mosquitto
# brokers and create and drop their own databases. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

require_cargo
install_packages "${BUILD_PACKAGES[@]}" mosquitto mosquitto-clients postgresql systemd prometheus
ensure_postgres
as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres -c "
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dh_test') THEN
    CREATE ROLE dh_test LOGIN CREATEDB PASSWORD 'dh_test';
  END IF;
END \$\$;"
export DH_TEST_POSTGRES_URL="${DH_TEST_POSTGRES_URL:-postgres://dh_test:dh_test@127.0.0.1:5432/postgres}"

echo "==> systemd-analyze security (exposure of the shipped unit, at most 2.0)"
systemd-analyze security --offline=true --threshold=20 deploy/dh-mqtt-plugin.service | tail -n 1
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "==> cargo test"
cargo test --locked
echo "==> systemd-analyze verify (the shipped unit, on the binary just built)"
unit_dir=$(mktemp -d)
sed "s|/usr/bin/dh-mqtt-plugin|$PWD/target/debug/dh-mqtt-plugin|" deploy/dh-mqtt-plugin.service \
    > "$unit_dir/dh-mqtt-plugin.service"
systemd-analyze verify "$unit_dir/dh-mqtt-plugin.service"
rm -rf "$unit_dir"
echo "==> Debian package and lintian"
bash deploy/deb.sh
