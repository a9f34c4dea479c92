#!/bin/sh
# Install the Debian 12 packages that building, the demo and the tests need.
# A no-op when everything is already there; uses apt-get (run as root, or via sudo).
set -eu

PKGS="build-essential pkg-config libpaho-mqtt-dev libcurl4-openssl-dev libcjson-dev libssl-dev
mosquitto mosquitto-clients openssl python3 ca-certificates valgrind mandoc systemd"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts a system-wide mosquitto on port 1883 when the package is installed; the
# bridge's tests and demo start their own brokers and need nothing from it.
