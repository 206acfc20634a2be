#!/bin/sh
# Start-up benchmark: how long a command such as "rnodes -a" takes from
# exec to exit on a 1000-node inventory, and its peak memory. Figures are
# reported as ratios against baselines measured in the same run:
#   - /bin/true: the cost of starting any process on this machine;
#   - python3 -c pass: the floor of any Python tool (rhubarbe needs about
#     0.6-0.7 s and 100 MB for "rnodes"; it cannot be installed here).
#
# Usage: tests/bench/startup.sh [BUILD_DIR] [NODES]   (default build-release, 1000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build-release}" 2>/dev/null && pwd) || build=${1:-$top/build-release}
n=${2:-1000}
[ -x "$build/rhubarb" ] || {
	echo "startup.sh: no $build/rhubarb; build it first:" >&2
	echo "  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && cmake --build build-release" >&2
	exit 2
}
command -v hyperfine >/dev/null || { echo "startup.sh: needs hyperfine" >&2; exit 2; }

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT INT TERM
# An inventory of n nodes in rhubarbe's format.
awk -v n="$n" 'BEGIN {
	printf "[\n"
	for (i = 1; i <= n; i++) {
		a = int(i / 250); b = i % 250 + 1
		printf "{\"cmc\":{\"hostname\":\"reboot%04d\",\"ip\":\"10.1.%d.%d\",\"mac\":\"02:00:00:01:%02x:%02x\"},", i, a, b, a, b
		printf "\"control\":{\"hostname\":\"fit%04d\",\"ip\":\"10.3.%d.%d\",\"mac\":\"02:00:00:03:%02x:%02x\"}}%s\n", i, a, b, a, b, (i < n ? "," : "")
	}
	printf "]\n"
}' >"$t/inv.json"
printf '[testbed]\ninventory_nodes_path = %s\n' "$t/inv.json" >"$t/rb.conf"
export RHUBARB_CONFIG="$t/rb.conf" HOME="$t" XDG_STATE_HOME="$t/state"
cd "$t"

hyperfine -N --warmup 10 --runs "${RUNS:-200}" --style none \
    --export-json "$t/h.json" \
    -n true /bin/true \
    -n python3 "/usr/bin/python3 -c pass" \
    -n "rnodes -a" "$build/rnodes -a" \
    -n "rnodes --fold 1-$n~5" "$build/rnodes --fold 1-$n~5" \
    -n "rhubarb inventory --json" "$build/rhubarb inventory --json" \
    >/dev/null

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
{
	echo "true $(rss /bin/true)"
	echo "python3 $(rss /usr/bin/python3 -c pass)"
	echo "rnodes -a $(rss "$build/rnodes" -a)"
	echo "rnodes --fold 1-$n~5 $(rss "$build/rnodes" --fold "1-$n~5")"
	echo "rhubarb inventory --json $(rss "$build/rhubarb" inventory --json)"
} >"$t/rss"

python3 - "$t/h.json" "$t/rss" "$n" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
rss = {}
for line in open(sys.argv[2]):
    name, kb = line.rstrip("\n").rsplit(" ", 1)
    rss[name] = int(kb)
base = {r["command"]: r["mean"] for r in res}
print(f"start-up on a {sys.argv[3]}-node inventory ({res[0]['times'].__len__()} runs each)")
print(f"{'command':<28} {'mean ms':>8} {'stddev':>7} {'x true':>7} {'x python3':>9} {'max RSS KiB':>11}")
for r in res:
    c = r["command"]
    print(f"{c:<28} {r['mean']*1e3:8.2f} {r['stddev']*1e3:7.2f} "
          f"{r['mean']/base['true']:7.1f} {r['mean']/base['python3']:9.3f} {rss.get(c, 0):11d}")
PY
