#!/bin/sh
# Scale of the simulated testbed: how long "rhubarb-sim up" and "down" take
# for N nodes, and how much memory the idle testbed uses (PSS summed over
# every process of its namespace). The baseline measured in the same run is
# a 12-node testbed, so figures are given as ratios too.
#
# Usage (root): tests/bench/sim-scale.sh [BUILD_DIR] [N]   (default build, 1000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
n=${2:-1000}
sim=$build/rhubarb-sim
[ -x "$sim" ] || { echo "sim-scale.sh: no $sim" >&2; exit 2; }
t=$(mktemp -d)
trap '"$sim" down --dir "$t/a" >/dev/null 2>&1; "$sim" down --dir "$t/b" >/dev/null 2>&1; rm -rf "$t"' EXIT INT TERM

now() { date +%s.%N; }
# PSS (KiB) of every process in the pid namespace of host pid $1.
pss() {
	ns=$(readlink "/proc/$1/ns/pid")
	total=0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] || continue
		kb=$(awk '/^Pss:/ {print $2}' "$p/smaps_rollup" 2>/dev/null || echo 0)
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}
procs() {
	ns=$(readlink "/proc/$1/ns/pid")
	c=0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && c=$((c + 1))
	done
	echo "$c"
}

measure() { # measure NAME NODES
	d=$t/$1
	s=$(now)
	"$sim" up --nodes "$2" --dir "$d" >/dev/null
	e=$(now)
	up=$(awk -v a="$s" -v b="$e" "BEGIN { print b - a }")
	sleep 2
	p=$(cat "$d/sim/pids/init.hostpid")
	kb=$(pss "$p")
	np=$(procs "$p")
	s=$(now)
	"$sim" down --dir "$d" >/dev/null
	e=$(now)
	down=$(awk -v a="$s" -v b="$e" "BEGIN { print b - a }")
	echo "$2 $up $down $kb $np"
}

base=$(measure a 12)
big=$(measure b "$n")
echo "$base
$big" | awk '
NR == 1 { bu = $2; bk = $4 }
{ printf "%5d nodes: up %6.2f s (x%.1f), down %5.2f s, idle PSS %7.1f MiB (x%.1f), %d processes\n",
    $1, $2, $2 / bu, $3, $4 / 1024, $4 / bk, $5 }'
