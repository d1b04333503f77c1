#!/usr/bin/env bash
# Installs the package from deploy/deb.sh into a fresh Debian 12 root made with debootstrap
# (from deb.debian.org) and checks what an operator gets: the files and their modes, the
# system user and state directory, the generated secrets (kept by a reinstall), the unit
# enabled and not started, `--version`, `migrate` on the SQLite default as the service's user,
# and `systemd-analyze verify` of the installed unit. systemd is not PID 1 in a chroot: the
# service is not started here (the integration tests run it, and its notify protocol, with a
# socket of their own). Takes a few minutes, most of them debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

install_packages debootstrap systemd
deb=$(bash deploy/deb.sh | tail -n 1)
root=$(mktemp -d /tmp/dh-deb-root.XXXXXX)
# mktemp makes it 0700: the root of the chroot must be readable by the service's user.
chmod 0755 "$root"
cleanup() {
    umount "$root/proc" 2>/dev/null || true
    rm -rf "$root"
}
trap cleanup EXIT
start=$SECONDS
echo "==> debootstrap bookworm into $root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
mount -t proc proc "$root/proc"
in_root() { chroot "$root" "$@"; }
cp "$deb" "$root/tmp/package.deb"
echo "==> apt-get install ./package.deb, mosquitto (the package recommends it) and systemd"
in_root apt-get install -y -q /tmp/package.deb mosquitto systemd >/dev/null 2>&1

fail() { echo "FAILED: $*" >&2; exit 1; }
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else fail "$what"; fi; }

check "binaries installed" test -x "$root/usr/bin/dh-mqtt-plugin" -a -x "$root/usr/bin/dh-bench"
check "--version runs" in_root dh-mqtt-plugin --version
check "system user dh-mqtt-plugin" in_root getent passwd dh-mqtt-plugin
check "state directory owned by it" test "$(in_root stat -c %U:%a /var/lib/dh-mqtt-plugin)" = "dh-mqtt-plugin:750"
check "settings file mode 600" test "$(stat -c %a "$root/etc/dh-mqtt-plugin/env")" = 600
secret=$(sed -n 's/^JWT_SECRET=//p' "$root/etc/dh-mqtt-plugin/env")
check "JWT_SECRET generated" test "${#secret}" -eq 64
check "broker password generated" grep -Eq '^DH_BROKER_PASSWORD=[0-9a-f]{64}$' "$root/etc/dh-mqtt-plugin/env"
check "service account in the broker's password file" grep -q '^dhplugin:\$' "$root/etc/mosquitto/dh-mqtt-plugin/passwd"
check "unit installed" test -f "$root/usr/lib/systemd/system/dh-mqtt-plugin.service"
check "unit enabled" test -L "$root/etc/systemd/system/multi-user.target.wants/dh-mqtt-plugin.service"
check "unit verifies" in_root systemd-analyze verify /usr/lib/systemd/system/dh-mqtt-plugin.service
# The settings are read as root (as systemd reads EnvironmentFile), then the user is dropped.
check "migrate on the SQLite default, as the service's user" in_root sh -c 'set -a; . /etc/dh-mqtt-plugin/env;
    exec setpriv --reuid dh-mqtt-plugin --regid dh-mqtt-plugin --clear-groups dh-mqtt-plugin migrate'
check "the database file exists" test -s "$root/var/lib/dh-mqtt-plugin/dh-mqtt-plugin.sqlite"
check "broker plugin installed" test -f "$root/usr/lib/dh-mqtt-plugin/libdh_mqtt_plugin_broker.so"
# The shipped snippet on a port of its own (the chroot shares the host's network).
check "Mosquitto loads the plugin from the shipped snippet" in_root sh -c '
    sed "s/^listener .*/listener 18999 127.0.0.1/; s/^persistence .*/persistence false/" \
        /usr/share/dh-mqtt-plugin/mosquitto/dh-mqtt-plugin.conf > /tmp/dh-broker.conf
    timeout 2 mosquitto -c /tmp/dh-broker.conf 2>&1 | grep -q "rules for dh/ loaded"'
echo "==> reinstall (an upgrade keeps the settings)"
in_root dpkg -i /tmp/package.deb >/dev/null
check "JWT_SECRET kept" test "$(sed -n 's/^JWT_SECRET=//p' "$root/etc/dh-mqtt-plugin/env")" = "$secret"
echo "deb-check passed in $((SECONDS - start)) s (debootstrap included)"
