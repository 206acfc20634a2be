#!/bin/sh
# bmc-ctl.sh DIR NODE badpass|clear: give NODE's simulated BMC another
# password (badpass: the BMC then expects the real one reversed plus "x",
# so the real one gets "password invalid") or its own back (clear).
# ipmi_sim reads users from its config only at start, so this stops that
# node's ipmi_sim (by the pid in DIR/sim/pids/ipmi-NODE.pid), and has
# bmc-up.sh start it again with the other password, which rewrites the pid
# file and waits, bounded, until it answers. Nothing to do when the BMC
# already runs with the wanted password. simd runs it for the bmc-badpass
# fault (and for clear); it serializes with bmc-up.sh through a lock.
# Exit 0 done, 1 failed (one-line error), 2 bad usage.
set -u
prog=bmc-ctl.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}
usage() {
	echo "usage: $prog DIR NODE badpass|clear" >&2
	exit 2
}
[ $# -eq 3 ] || usage
case "$3" in
badpass) mode=bad ;;
clear) mode=real ;;
*) usage ;;
esac
DIR=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
node=$2
SIM_BIN=$(cd "$(dirname "$0")" && pwd)
S=$DIR/sim
# Within simd's 30 s budget for this script: lock, stop, start and wait.
LOCK_WAIT=8
STOP_WAIT=50 # tenths of a second
START_WAIT=15

awk -v n="$node" '$1 == "node" && $2 == n && $7 != "-" { f = 1 } END { exit !f }' \
    "$S/nodes.conf" 2>/dev/null || die "$node: no such node with a BMC in $S/nodes.conf"
mkdir -p "$S/ipmi" || die "cannot create $S/ipmi"
exec 9>"$S/ipmi/lock"
flock -w "$LOCK_WAIT" 9 || die "$S/ipmi/lock: still held after ${LOCK_WAIT}s"

# Alive: running and not a zombie (reaped late by the namespace's init).
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" in Z | X | '') return 1 ;; esac
}

pidf=$S/pids/ipmi-$node.pid
pid=
[ -f "$pidf" ] && read -r pid <"$pidf"
if [ -n "$pid" ] && alive "$pid"; then
	cur=
	[ -f "$S/ipmi/$node/mode" ] && read -r cur <"$S/ipmi/$node/mode"
	[ "$cur" = "$mode" ] && exit 0
	kill -TERM "$pid" 2>/dev/null
	i=0
	while alive "$pid"; do
		i=$((i + 1))
		if [ $i -eq "$STOP_WAIT" ]; then
			kill -KILL "$pid" 2>/dev/null
		elif [ $i -gt $((STOP_WAIT + 20)) ]; then
			die "$node: ipmi_sim $pid does not stop"
		fi
		sleep 0.1
	done
fi
rm -f "$pidf"
RHUBARB_SIM_BMC_LOCKED=1 RHUBARB_SIM_BMC_MODE=$mode \
    RHUBARB_SIM_BMC_TIMEOUT=$START_WAIT sh "$SIM_BIN/bmc-up.sh" "$DIR" "$node" 9>&-
