#!/bin/sh
# demo.sh: what `make demo` runs after the build.  Starts three simulated printers (mosquitto
# over TLS), a local HTTPS stand-in for Discord and a webhook receiver, and the bridge, then
# plays a scripted day of about two minutes.  Ctrl-C stops everything.
#   DEMO_ONCE=1 ./scripts/demo.sh   exits after the story; status 0 only if every expected
#                                   notification arrived at both sinks (a smoke test)
#   BED_KEEP=1                      keeps the temporary folder (configuration, logs)
set -eu
cd "$(dirname "$0")/.."
if [ ! -x "${BRIDGE_BIN:-build/bambu-bridge}" ]; then
	echo "demo: ${BRIDGE_BIN:-build/bambu-bridge} is missing: run 'make' first" >&2
	exit 1
fi
exec /usr/bin/python3 scripts/demo.py "$@"
