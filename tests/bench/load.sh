#!/bin/sh
# rload at scale on the simulated testbed: one load of every node of a
# testbed of N nodes (CMC power, a 1 MiB image), for N = 1 (the baseline:
# the delays the simulator imposes, boots and transfer, with nothing to
# share), then each size asked. For each: wall time, the engine's own
# overhead (wall minus the 1-node baseline of the same run), rhubarb's own
# CPU time (its frisbeed, a child, not included) as the kernel accounts it
# (getrusage, logged by every command) and as perf measures it
# (task-clock, when perf is installed), and its peak memory (max RSS).
#
# rhubarbe, on a similar fake testbed, needed 1.2 s of CPU and 100 MB for
# 37 nodes (notes/rhubarbe.md 2.1): the last columns compare, scaling its
# CPU linearly with the number of nodes.
#
# The testbed's telnet is one inetd-style listener forking a telnetd per
# connection, where real nodes each run their own: at 1000 nodes, probes
# every 0.5 s with a 0.5 s answer bound (rhubarbe's telnet_timeout)
# saturate it and most nodes time out. Hence rhubarb's default backoff
# (3 s) and a 3 s bound here.
#
# Usage (root): tests/bench/load.sh [BUILD_DIR] [N...]  (default 12 37 100 1000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
if [ $# -gt 0 ]; then
	shift
fi
sizes=${*:-12 37 100 1000}
sim=$build/rhubarb-sim
[ -x "$sim" ] || { echo "load.sh: no $sim" >&2; exit 2; }
perf=
if command -v perf >/dev/null 2>&1; then
	perf="perf stat -i -x, -e task-clock -o"
fi
t=$(mktemp -d)
trap '"$sim" down --dir "$t/tb" >/dev/null 2>&1 || :; rm -rf "$t"' EXIT
trap 'exit 1' INT TERM

# measure N: "wall cpu_rusage cpu_perf maxrss_kib rc"
measure() {
	"$sim" up --nodes "$1" --power cmc --boot-delay 1 --image-mb 1 \
	    --dir "$t/tb" >/dev/null
	cat >>"$t/tb/rhubarb.conf" <<-EOF

	[nodes]
	fanout = 100000
	boot_timeout = 600
	[networking]
	telnet_timeout = 3
	bandwidth = 1000
	EOF
	s=$(date +%s.%N)
	if [ -n "$perf" ]; then
		"$sim" run --dir "$t/tb" -- $perf "$t/pstat" rload -a -t 900 \
		    >"$t/out" 2>&1 && rc=0 || rc=$?
	else
		"$sim" run --dir "$t/tb" -- rload -a -t 900 >"$t/out" 2>&1 &&
		    rc=0 || rc=$?
	fi
	e=$(date +%s.%N)
	# "rload: exit 0, cpu 0.076 s (user 0.008, sys 0.067), max rss 9584 KiB"
	line=$(grep "rload: exit" "$t/tb/state/rhubarb.log" | tail -n 1)
	ms=0
	if [ -n "$perf" ]; then
		ms=$(awk -F, '/task-clock/ { print $1 }' "$t/pstat")
	fi
	"$sim" down --dir "$t/tb" >/dev/null
	rm -rf "$t/tb"
	echo "$line" | awk -v s="$s" -v e="$e" -v ms="$ms" -v rc="$rc" '{
		for (i = 1; i <= NF; i++) {
			if ($i == "cpu")
				cpu = $(i + 1)
			if ($i == "rss")
				rss = $(i + 1)
		}
		printf "%.2f %s %.3f %s %s\n", e - s, cpu, ms / 1000, rss, rc
	}'
}

set -- $(measure 1)
base=$1
printf 'baseline, 1 node: %.2f s wall, %s s CPU, %d MiB\n' \
    "$1" "$2" "$(($4 / 1024))"
printf '%6s %7s %9s %8s %8s %8s %9s %10s %3s\n' nodes wall overhead \
    "cpu" "cpu perf" "rss MiB" "cpu/node" "x rhubarbe" rc
for n in $sizes; do
	set -- $(measure "$n")
	awk -v n="$n" -v w="$1" -v b="$base" -v c="$2" -v p="$3" -v m="$4" \
	    -v rc="$5" '
	BEGIN {
		# rhubarbe: 1.2 s CPU and 100 MB for 37 nodes.
		rcpu = 1.2 / 37 * n
		printf "%6d %7.2f %9.2f %8.3f %8.3f %8.1f %9.4f %4.0f/%-5.0f %3d\n",
		    n, w, w - b, c, p, m / 1024, c / n,
		    rcpu / (c > 0 ? c : 0.001), rcpu / (p > 0 ? p : 0.001), rc
	}'
done
echo "cpu: rusage (s); cpu perf: task-clock (s, 0 without perf); cpu/node"
echo "from rusage; 'x rhubarbe': rhubarbe's CPU for n nodes (1.2 s per 37)"
echo "over ours, by rusage/by perf. rhubarbe's memory was 100 MB."
