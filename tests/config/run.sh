#!/bin/bash
# Golden-file tests for the configuration check (bgpd's regress style).  Each cases/NAME/ holds
# bridge.conf, an optional printers.d/, "expected" (the exact output of `bambu-bridge check`,
# stdout and stderr, with the case's directory written as CASE) and "exit" (0 or 1).  Then the
# repository's own printers.d/ examples must pass the check.  Last line: "N passed, N failed".
# Git keeps no file modes but +x, so each case runs on a copy whose files are closed to others
# (as installed configuration should be); an optional "modes" file ("0644 bridge.conf" lines)
# sets modes of its own, for the warning about secrets others can read.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BRIDGE_BIN:-$root/build/bambu-bridge}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

if [ ! -x "$bin" ]; then
	echo "FAIL: $bin is not built"
	echo "0 passed, 1 failed"
	exit 1
fi

# check NAME DIR WANT-EXIT WANT-OUTPUT [ARGS...]: run the check on DIR/bridge.conf and compare.
check() {
	local name=$1 dir=$2 want_rc=$3 want=$4 out rc
	shift 4
	out=$(cd "$tmp" && "$bin" -c "$dir/bridge.conf" -s "$tmp/state" "$@" check 2>&1)
	rc=$?
	out=${out//"$dir"/CASE}
	if [ "$out" == "$want" ] && [ "$rc" -eq "$want_rc" ]; then
		echo "ok $name"
		pass=$((pass + 1))
		return
	fi
	echo "FAIL $name (exit $rc, want $want_rc)"
	diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$out") | tail -n +3
	fail=$((fail + 1))
}

# copy_case SRC DST: DST is SRC with every file closed to others, then SRC/modes applied.
copy_case() {
	local src=$1 dst=$2 mode file
	cp -a "$src" "$dst" && chmod -R o-rwx "$dst" || return 1
	[ -f "$src/modes" ] || return 0
	while read -r mode file; do
		[ -n "$mode" ] && [ "${mode#\#}" == "$mode" ] || continue
		chmod "$mode" "$dst/$file" || return 1
	done <"$src/modes"
}

mkdir -p "$tmp/cases"
for d in "$here"/cases/*/; do
	d=${d%/}
	name=$(basename "$d")
	if [ ! -f "$d/expected" ] || [ ! -f "$d/exit" ]; then
		echo "FAIL $name: no expected or exit file"
		fail=$((fail + 1))
		continue
	fi
	if ! copy_case "$d" "$tmp/cases/$name"; then
		echo "FAIL $name: cannot copy the case"
		fail=$((fail + 1))
		continue
	fi
	check "$name" "$tmp/cases/$name" "$(cat "$d/exit")" "$(cat "$d/expected")"
done

# Every example drop-in the repository ships must pass, beside an empty bridge.conf (copied
# and closed to others, as `make install` users are told to do).
mkdir -p "$tmp/examples/printers.d"
: >"$tmp/examples/bridge.conf"
n=$(find "$root/printers.d" -maxdepth 1 -name '*.conf' ! -name '.*' | wc -l)
if [ "$n" -eq 0 ]; then
	echo "FAIL examples: no printers.d/*.conf"
	fail=$((fail + 1))
else
	cp "$root"/printers.d/*.conf "$tmp/examples/printers.d/"
	chmod 0640 "$tmp"/examples/printers.d/*.conf
	check examples "$tmp/examples" 0 "CASE/bridge.conf: ok: $n printers, 0 sinks" \
	    -p "$tmp/examples/printers.d"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
