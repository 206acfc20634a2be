#!/bin/sh
# rload at scale on the simulated testbed: one load of every node of a
# testbed of N nodes (CMC power, a small image), for N = 1 (the baseline:
# the delays the simulator imposes, boots and transfer, with nothing to
# share), then each size asked. For each: wall time, the engine's own
# overhead (wall minus the 1-node baseline of the same run), rhubarb's
# CPU time (user+sys) and peak memory (max RSS), from GNU time.
#
# rhubarbe, on a similar fake testbed, needed 1.2 s of CPU and 100 MB for
# 37 nodes (notes/rhubarbe.md 2.1): the last columns compare per node.
#
# Usage (root): tests/bench/load.sh [BUILD_DIR] [N...]  (default 12 100 1000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
[ $# -gt 0 ] && shift
sizes=${*:-12 100 1000}
sim=$build/rhubarb-sim
[ -x "$sim" ] || { echo "load.sh: no $sim" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "load.sh: needs GNU time" >&2; exit 2; }
t=$(mktemp -d)
trap '"$sim" down --dir "$t/tb" >/dev/null 2>&1; rm -rf "$t"' EXIT INT TERM

# measure N: "wall cpu maxrss_kib rc"
measure() {
	"$sim" up --nodes "$1" --power cmc --boot-delay 1 --image-mb 1 \
	    --dir "$t/tb" >/dev/null
	cat >>"$t/tb/rhubarb.conf" <<-EOF

	[nodes]
	fanout = 100000
	[networking]
	telnet_backoff = 0.5
	bandwidth = 1000
	EOF
	"$sim" run --dir "$t/tb" -- /usr/bin/time -f '%e %U %S %M' \
	    -o "$t/time" rload -a -t 900 >"$t/out" 2>&1 && rc=0 || rc=$?
	"$sim" down --dir "$t/tb" >/dev/null
	rm -rf "$t/tb"
	awk -v rc="$rc" '{ printf "%s %.2f %s %s\n", $1, $2 + $3, $4, rc }' \
	    "$t/time"
}

set -- $(measure 1)
base=$1
printf 'baseline, 1 node: %.2f s wall, %.2f s CPU, %d MiB\n' \
    "$1" "$2" "$(($3 / 1024))"
printf '%6s %8s %9s %8s %8s %10s %12s %12s %3s\n' nodes wall overhead \
    cpu "rss MiB" "cpu/node" "x rhubarbe" "mem x less" rc
for n in $sizes; do
	set -- $(measure "$n")
	awk -v n="$n" -v w="$1" -v b="$base" -v c="$2" -v m="$3" -v rc="$4" '
	BEGIN {
		# rhubarbe: 1.2 s CPU and 100 MB for 37 nodes.
		rcpu = 1.2 / 37 * n; rmem = 100 * 1024
		printf "%6d %8.2f %9.2f %8.2f %8.1f %10.4f %12.1f %12.1f %3d\n",
		    n, w, w - b, c, m / 1024, c / n, rcpu / (c > 0 ? c : 0.01),
		    rmem / m, rc
	}'
done
echo "cpu/node in seconds; 'x rhubarbe': rhubarbe's CPU for n nodes"
echo "(1.2 s per 37) over ours; 'mem x less': 100 MB over our peak."
