#!/bin/sh
# Power status of many BMCs: "rhubarb status -a" against FreeIPMI's
# "ipmipower -D LAN_2_0 -W opensesspriv --stat" on the same simulated BMCs
# (ipmi_sim, IPMI 2.0), in the same run, for each N: wall time and CPU
# time (user + system of the client and its children) of each, and the
# ratios rhubarb / ipmipower. Both tools run with their defaults (rhubarb:
# [power] fanout 64; ipmipower: no fan-out limit), then each with the
# other's: rhubarb without a cap, ipmipower with -F 64. Measured with hyperfine (warm-up,
# then RUNS runs) or, without it, repeated /usr/bin/time.
#
# Usage (root): tests/bench/power-status.sh [BUILD_DIR] [N...]
# (default: build-release, 100 1000; use a Release build). RUNS=10.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
PATH=$PATH:/usr/sbin:/sbin

# --- inside a testbed: measure ------------------------------------------

if [ "${1:-}" = --inside ]; then
	d=$2
	n=$3
	out=$4
	runs=${RUNS:-10}
	pass=$(head -n 1 "$d/sim/bmc.pass")
	hosts=$(awk '$1 == "node" && $7 != "-" { printf "%sbmc%02d", s, $3; s = "," }' \
	    "$d/sim/nodes.conf")
	ipmi="ipmipower -D LAN_2_0 -W opensesspriv -u admin -p $pass -h $hosts --stat"
	ipmi_f="$ipmi -F 64"
	ours="rhubarb status -a"
	ours_nf="rhubarb status -a -o power.fanout=100000"
	# Ready: every BMC answers (a mass start leaves some not yet up).
	i=0
	until [ "$($ipmi 2>&1 | grep -c ': off$')" -eq "$n" ]; do
		i=$((i + 1))
		[ $i -lt 30 ] || { echo "power-status.sh: BMCs not ready" >&2; exit 1; }
		sleep 1
	done
	# Both must see every BMC, or the times mean nothing.
	got=$($ours 2>&1) || { echo "power-status.sh: rhubarb: $got" >&2; exit 1; }
	case $got in
	"off: "*) [ "$(echo "$got" | wc -l)" -eq 1 ] ;;
	*) false ;;
	esac || { echo "power-status.sh: rhubarb said: $got" >&2; exit 1; }
	if command -v hyperfine >/dev/null 2>&1; then
		# -i: ipmipower exits 1 when one BMC timed out; counted below.
		hyperfine -N -i --style none --warmup 1 --runs "$runs" \
		    --export-json "$out.json" -n rhubarb "$ours" \
		    -n rhubarb-nofanout "$ours_nf" -n ipmipower "$ipmi" \
		    -n ipmipower-f64 "$ipmi_f" \
		    >/dev/null 2>&1
		python3 - "$out.json" "$n" >"$out.t" <<-'EOF'
		import json, sys
		for r in json.load(open(sys.argv[1]))["results"]:
		    print(sys.argv[2], r["command"], r["mean"], r["stddev"] or 0,
		          r["user"] + r["system"])
		EOF
	else
		for name in rhubarb rhubarb-nofanout ipmipower ipmipower-f64; do
			case $name in
			rhubarb) cmd=$ours ;;
			rhubarb-nofanout) cmd=$ours_nf ;;
			ipmipower) cmd=$ipmi ;;
			*) cmd=$ipmi_f ;;
			esac
			: >"$out.$name"
			k=0
			while [ $k -lt "$runs" ]; do
				# shellcheck disable=SC2086 # words wanted
				/usr/bin/time -f '%e %U %S' -a -o "$out.$name" \
				    $cmd >/dev/null 2>&1 || :
				k=$((k + 1))
			done
			awk -v n="$n" -v c="$name" '
			    /^[0-9.]+ [0-9.]+ [0-9.]+$/ { w += $1; w2 += $1 * $1; cpu += $2 + $3; k++ }
			    END { m = w / k; v = w2 / k - m * m; if (v < 0) v = 0
				  print n, c, m, sqrt(v), cpu / k }' "$out.$name" >>"$out.t"
		done
	fi
	# How many BMCs each answered, once more after the timed runs.
	a1=$($ours --lines 2>&1 | grep -Ec ': (on|off)$' || :)
	a2=$($ours_nf --lines 2>&1 | grep -Ec ': (on|off)$' || :)
	a3=$($ipmi 2>&1 | grep -Ec ': (on|off)$' || :)
	a4=$($ipmi_f 2>&1 | grep -Ec ': (on|off)$' || :)
	awk -v a1="$a1" -v a2="$a2" -v a3="$a3" -v a4="$a4" '
	    { a = $2 == "rhubarb" ? a1 : $2 == "rhubarb-nofanout" ? a2 : \
		$2 == "ipmipower" ? a3 : a4; print $0, a }' \
	    "$out.t" >"$out"
	exit 0
fi

# --- outside: one testbed per N ------------------------------------------

build=${1:-$top/build-release}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- 100 1000
sim=$build/rhubarb-sim
[ -x "$sim" ] || { echo "power-status.sh: no $sim" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "power-status.sh: needs root" >&2; exit 2; }
type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
[ "$type" = Release ] || echo "power-status.sh: warning: $build is a '$type' build, not Release" >&2
command -v ipmipower >/dev/null || { echo "power-status.sh: no ipmipower (freeipmi-tools)" >&2; exit 2; }
t=$(mktemp -d)
trap '"$sim" down --dir "$t/tb" >/dev/null 2>&1; rm -rf "$t"' EXIT INT TERM

for n in "$@"; do
	"$sim" up --nodes "$n" --power ipmi --dir "$t/tb" >"$t/up.log" 2>&1 ||
	    { tail -n 3 "$t/up.log" >&2; exit 1; }
	printf '\n[power]\nipmi_workarounds = opensesspriv\n' >>"$t/tb/rhubarb.conf"
	"$sim" run --dir "$t/tb" -- sh "$self" --inside "$t/tb" "$n" "$t/res.$n"
	cat "$t/res.$n" >>"$t/all"
	"$sim" down --dir "$t/tb" >/dev/null
done

echo "power status of N simulated BMCs (ipmi_sim), $(nproc) CPUs, ${RUNS:-10} runs each; build: $type"
awk '
function ratio(n, what, a, b) {
	printf "%6d  %-34s %16s %9s\n", n, what,
	    sprintf("x%.2f", wall[n, a] / wall[n, b]),
	    sprintf("x%.2f", cpu[n, a] / cpu[n, b])
}
{ wall[$1, $2] = $3; sd[$1, $2] = $4; cpu[$1, $2] = $5; ans[$1, $2] = $6; if (!($1 in seen)) { seen[$1] = 1; ns[++k] = $1 } }
END {
	printf "%6s  %-34s %16s %9s %9s\n", "N", "command", "wall (s)", "CPU (s)", "answered"
	for (i = 1; i <= k; i++) {
		n = ns[i]
		printf "%6d  %-34s %8.3f ±%6.3f %9.3f %9s\n", n, "rhubarb status -a", wall[n, "rhubarb"], sd[n, "rhubarb"], cpu[n, "rhubarb"], ans[n, "rhubarb"] "/" n
		printf "%6d  %-34s %8.3f ±%6.3f %9.3f %9s\n", n, "rhubarb status -a (no fan-out cap)", wall[n, "rhubarb-nofanout"], sd[n, "rhubarb-nofanout"], cpu[n, "rhubarb-nofanout"], ans[n, "rhubarb-nofanout"] "/" n
		printf "%6d  %-34s %8.3f ±%6.3f %9.3f %9s\n", n, "ipmipower --stat", wall[n, "ipmipower"], sd[n, "ipmipower"], cpu[n, "ipmipower"], ans[n, "ipmipower"] "/" n
		printf "%6d  %-34s %8.3f ±%6.3f %9.3f %9s\n", n, "ipmipower --stat -F 64", wall[n, "ipmipower-f64"], sd[n, "ipmipower-f64"], cpu[n, "ipmipower-f64"], ans[n, "ipmipower-f64"] "/" n
		ratio(n, "defaults: rhubarb / ipmipower", "rhubarb", "ipmipower")
		ratio(n, "fan-out 64: rhubarb / ipmipower", "rhubarb", "ipmipower-f64")
		ratio(n, "no cap: rhubarb / ipmipower", "rhubarb-nofanout", "ipmipower")
	}
}' "$t/all"
