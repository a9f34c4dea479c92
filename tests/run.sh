#!/bin/bash
# Run every test: unit binaries, configuration golden files, integration tests.  Each part
# prints "N passed, N failed" as its last line; this adds them up and prints the total last.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BRIDGE_BIN=${BRIDGE_BIN:-$PWD/$BUILD/bambu-bridge}
total_pass=0
total_fail=0

run_part() {
	local name=$1; shift
	local out
	echo "== $name"
	out=$("$@" 2>&1)
	local rc=$?
	echo "$out" | grep -v '^ok ' | tail -n 40
	local last
	last=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$last" ]; then
		echo "FAIL $name: no result line (exit $rc)"
		total_fail=$((total_fail + 1))
		return
	fi
	local p f
	p=$(echo "$last" | awk '{print $1}')
	f=$(echo "$last" | awk '{print $3}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exit $rc"
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

vg=()
if [ "${VALGRIND:-0}" = 1 ]; then
	vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
fi

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_part "unit $(basename "$t")" "${vg[@]}" "$t"
done
if [ -x tests/config/run.sh ]; then
	run_part "config golden files" tests/config/run.sh
fi
if [ -f tests/integration/run.py ] && [ "${UNIT_ONLY:-0}" != 1 ]; then
	if [ "${VALGRIND:-0}" = 1 ]; then
		# The daemon itself under valgrind, through scenarios that cover every module.
		export BRIDGE_WRAPPER="${vg[*]}" TEST_TIMEOUT=180
		TESTS=${TESTS:-"test_jobs test_input test_sinks test_reload test_status test_trust"}
	fi
	run_part "integration" /usr/bin/python3 tests/integration/run.py ${TESTS:-}
fi
echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
