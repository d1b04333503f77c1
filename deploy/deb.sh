#!/usr/bin/env bash
# Builds the Debian package (cargo-deb, from crates.io) and checks it with lintian: any error
# fails. Prints the package's path last. deploy/deb-check.sh installs it into a fresh root.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

require_cargo
install_packages "${BUILD_PACKAGES[@]}" lintian
if ! command -v cargo-deb >/dev/null 2>&1; then
    echo "==> cargo install cargo-deb"
    cargo install --locked cargo-deb@3.8.0
fi
echo "==> cargo build --release (the service, dh-bench and the broker plugin)"
cargo build --release --locked --quiet
echo "==> cargo deb"
cargo deb --locked --strip --no-build >/dev/null
deb=$(ls -t target/debian/dh-mqtt-plugin_*.deb | head -n 1)
echo "==> lintian $deb"
# Warnings expected: no manual pages, the 0600 settings file (it holds the secrets).
lintian --fail-on error "$deb"
echo "$deb"
