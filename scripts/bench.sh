#!/bin/bash
# Benchmarks: print figures (they are measurements, not tests; nothing here fails on a number).
#  1. the report hot path: parse + merge + state machines, per report, and for a 1000-printer farm;
#  2. events through the crash-safe outbox to a local HTTPS receiver, and fsyncs per event.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
EVENTS=${EVENTS:-2000}

echo "== report hot path (CPU time)"
"$BUILD/tests/bench_report"
echo
echo "== outbox and delivery"
/usr/bin/python3 - "$BUILD" "$EVENTS" <<'PY'
import os, re, subprocess, sys, tempfile
sys.path.insert(0, "scripts")
import testbed

build, events = sys.argv[1], sys.argv[2]
with testbed.Bed() as bed:
    rx = bed.receiver()
    state = bed.path("state")
    url = rx.url("hook/bench")
    cmd = [os.path.join(build, "tests/bench_outbox"), state, url, bed.ca.ca_path, events]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    print(out, end="")
    got = len(rx.requests())
    print("  receiver got:              %8d requests" % got)
    trace = bed.path("strace.out")
    subprocess.run(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", trace,
                    cmd[0], bed.path("state2"), url, bed.ca.ca_path, "500"],
                   capture_output=True, check=True)
    calls = 0
    for line in open(trace):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)$", line)
        if m:
            calls += int(m.group(1))
    print("  fsyncs per event:          %8.2f  (500 events under strace: %d fsyncs)" %
          (calls / 500.0, calls))
PY

echo
echo "== a farm: ${FARM_PRINTERS:-1000} printers on one broker, a delta every 2 s each (FARM_PRINTERS=0 skips)"
if [ "${FARM_PRINTERS:-1000}" -gt 0 ]; then
	/usr/bin/python3 scripts/bench_farm.py "$BUILD" "${FARM_PRINTERS:-1000}" "${FARM_SECONDS:-30}"
fi
