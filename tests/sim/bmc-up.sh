#!/bin/sh
# bmc-up.sh DIR [NODE...]: start the simulated BMCs (tests/sim/DESIGN.md).
# For every node of DIR/sim/nodes.conf that has a BMC address (or only the
# NODEs given) and whose BMC is not already running: one OpenIPMI ipmi_sim,
# IPMI 2.0 (RMCP+) on BMC_IP:623, user "admin" with the password of
# DIR/sim/bmc.pass (or the "bad" one while the node has the bmc-badpass
# fault, see bmc-ctl.sh), and chassis_control = "rhubarb-sim-ctl -d DIR
# chassis NODE", so that its chassis power is the node's power in simd.
# Config and state in DIR/sim/ipmi/NODE/, the pid (ipmi_sim's own, not a
# shell's) in DIR/sim/pids/ipmi-NODE.pid, the log in DIR/sim/log/.
# All start at once; then it waits, bounded, until every one answers, and
# exits 0, or 1 with a one-line error (2: bad usage). bmc-ctl.sh restarts
# one node through us with RHUBARB_SIM_BMC_LOCKED=1 (it holds the lock)
# and RHUBARB_SIM_BMC_MODE=bad|real (which password).
#
# Clients, measured against ipmi_sim (notes/power.md 4.2):
#   ipmipower -D LAN_2_0 -W opensesspriv -u admin -p PASS -h bmcNN --stat
# FreeIPMI needs "-W opensesspriv" here: without it ipmi_sim refuses the
# session ("privilege level cannot be obtained for this user"). ipmitool
# wants "-I lanplus -C 3": without -C it first spends 10 s failing "Get
# Channel Cipher Suites", which ipmi_sim does not implement.
set -u
prog=bmc-up.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}
[ $# -ge 1 ] || {
	echo "usage: $prog DIR [NODE...]" >&2
	exit 2
}
PATH=$PATH:/usr/sbin:/sbin
DIR=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
shift
SIM_BIN=$(cd "$(dirname "$0")" && pwd)
S=$DIR/sim
# Seconds to wait for all of them to answer.
TIMEOUT=${RHUBARB_SIM_BMC_TIMEOUT:-30}

# ipmi_sim runs the hook with popen(), through the shell, and reads its
# config's quoted strings without escapes: keep paths and names plain.
plain() { case "$1" in '' | *[!A-Za-z0-9/._-]*) return 1 ;; esac; }
plain "$DIR" || die "$DIR: the directory name must be plain [A-Za-z0-9/._-]"
plain "$SIM_BIN" || die "$SIM_BIN: the directory name must be plain [A-Za-z0-9/._-]"
[ -r "$S/nodes.conf" ] || die "$S/nodes.conf: cannot read"
[ -x "$SIM_BIN/rhubarb-sim-ctl" ] || die "$SIM_BIN/rhubarb-sim-ctl: not found"
command -v ipmi_sim >/dev/null || die "ipmi_sim not found (Debian package openipmi)"
command -v ipmipower >/dev/null || die "ipmipower not found (Debian package freeipmi-tools)"

# The password, and the one a BMC with the bmc-badpass fault expects: the
# real one reversed, plus "x". ipmi_sim keeps at most 19 characters (20
# is refused), so both must fit.
pass=$(head -n 1 "$S/bmc.pass" 2>/dev/null) || die "$S/bmc.pass: cannot read"
case "$pass" in '' | *[!A-Za-z0-9._-]*)
	die "$S/bmc.pass: the password must be [A-Za-z0-9._-] characters" ;;
esac
[ ${#pass} -le 18 ] ||
    die "$S/bmc.pass: the password has ${#pass} characters, ipmi_sim takes at most 19 and the bad one needs one more"
badpass=$(printf '%s' "$pass" | rev)x

mkdir -p "$S/ipmi" "$S/pids" "$S/log" || die "cannot create $S/ipmi"

# bmc-ctl.sh calls us while holding the lock; otherwise take it, so that a
# restart by bmc-ctl.sh cannot race with this start. ipmi_sim must not
# inherit the lock's descriptor (it would hold the lock for ever).
if [ "${RHUBARB_SIM_BMC_LOCKED:-}" != 1 ]; then
	exec 9>"$S/ipmi/lock"
	flock -w 30 9 || die "$S/ipmi/lock: still held after 30 s"
fi

# The nodes: "NAME BMC_IP I", all those with a BMC or the ones named.
want=" $* "
nodes=$(awk -v want="$want" '
	$1 == "node" && NF == 8 && $7 != "-" &&
	    (want == "  " || index(want, " " $2 " ")) { print $2, $7, $3 }
	' "$S/nodes.conf") || die "$S/nodes.conf: cannot parse"
names=" $(echo "$nodes" | cut -d' ' -f1 | tr '\n' ' ') "
for n in "$@"; do
	case "$names" in *" $n "*) ;;
	*) die "$n: no such node with a BMC in $S/nodes.conf" ;;
	esac
done
[ -n "$nodes" ] || exit 0

# Pids of the live processes (not zombies), one "ps" for all.
live_pids() {
	live=" $(ps -e -o pid=,stat= | awk '$2 !~ /^[ZX]/ {print $1}' | tr '\n' ' ') "
}
# The pid in pid file $1 if that process is alive (after live_pids).
alive_pid() {
	p=
	[ -f "$1" ] && read -r p <"$1" 2>/dev/null
	case "$live" in *" ${p:-x} "*) return 0 ;; esac
	return 1
}

# The device of every BMC: an MC at 0x20 supporting (0x9f) sensors, SDR,
# SEL, FRU, event receiver and chassis control.
cat >"$S/ipmi/sim.emu" <<EOF
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
mc_enable 0x20
EOF

# What simd says of each node: bmc-badpass starts a BMC with the bad
# password (bmc-ctl.sh passes the mode it wants instead); bmc-unreachable
# and bmc-slow ones cannot answer the probe below.
list=$("$SIM_BIN/rhubarb-sim-ctl" -d "$DIR" list 2>&1) ||
    die "simd does not answer (rhubarb-sim-ctl list: $(echo "$list" | head -n 1))"
badpass_nodes=" $(echo "$list" | awk '/ bmc-badpass( |$)/ {print $1}' | tr '\n' ' ') "
silent_nodes=" $(echo "$list" | awk '/ (bmc-unreachable|bmc-slow)( |$)/ {print $1}' | tr '\n' ' ') "
case "${RHUBARB_SIM_BMC_MODE:-}" in
'') ;;
bad | real) [ $# -eq 1 ] || die "RHUBARB_SIM_BMC_MODE needs exactly one NODE" ;;
*) die "RHUBARB_SIM_BMC_MODE must be bad or real" ;;
esac

# Which ones to start: those not running (one restarted by bmc-ctl.sh
# before we ran is left alone). Their configs are written by one awk,
# fast enough for thousands; mode 0600, as they hold the password.
live_pids
start=$(echo "$nodes" | while read -r name ip i; do
	alive_pid "$S/pids/ipmi-$name.pid" && continue
	mode=${RHUBARB_SIM_BMC_MODE:-}
	if [ -z "$mode" ]; then
		case "$badpass_nodes" in *" $name "*) mode=bad ;; *) mode=real ;; esac
	fi
	echo "$name $ip $i $mode"
done)
if [ -n "$start" ]; then
	echo "$start" | awk -v s="$S/ipmi" '{print s "/" $1 "/state"}' |
	    xargs mkdir -p || die "cannot create the BMC directories in $S/ipmi"
	(umask 077 && echo "$start" | awk -v s="$S/ipmi" -v bin="$SIM_BIN" \
	    -v dir="$DIR" -v pass="$pass" -v bad="$badpass" '
	{
		name = $1; ip = $2; d = s "/" name; f = d "/lan.conf"
		print "# ipmi_sim of " name ", written by bmc-up.sh" > f
		print "name \"" name "\"" > f
		print "set_working_mc 0x20" > f
		print "  startlan 1" > f
		print "    addr " ip " 623" > f
		print "    priv_limit admin" > f
		print "    allowed_auths_callback md5 straight" > f
		print "    allowed_auths_user md5 straight" > f
		print "    allowed_auths_operator md5 straight" > f
		print "    allowed_auths_admin md5 straight" > f
		print "    guid " sprintf("72687562617262%018x", $3) > f
		print "  endlan" > f
		print "  chassis_control \"" bin "/rhubarb-sim-ctl -d " dir " chassis " name "\"" > f
		print "  user 1 false \"\" \"\" user 10 md5" > f
		print "  user 2 true \"admin\" \"" ($4 == "bad" ? bad : pass) "\" admin 10 md5 straight" > f
		close(f)
		print $4 > (d "/mode")
		close(d "/mode")
	}') || die "cannot write the BMC configurations in $S/ipmi"
	# All at once. "cmd &" in sh forks a child that execs ipmi_sim, so
	# $! is ipmi_sim's own pid (no wrapper shell, no setsid fork).
	echo "$start" | while read -r name ip i mode; do
		ipmi_sim -c "$S/ipmi/$name/lan.conf" -f "$S/ipmi/sim.emu" \
		    -s "$S/ipmi/$name/state" -n \
		    </dev/null >>"$S/log/ipmi-$name.log" 2>&1 9>&- &
		echo $! >"$S/pids/ipmi-$name.pid"
	done
fi

# Waiting, in two steps within one deadline. First every ipmi_sim has
# bound its UDP port, the socket being its own ("ss -p", one for all: the
# port may be someone else's). One that died, or logged that it could not
# bind, is an error at once; its log says why.
t0=$(date +%s)
left() { [ $(($(date +%s) - t0)) -lt "$TIMEOUT" ]; }
pending=$nodes
while [ -n "$pending" ]; do
	bound=" $(ss -Hlunp 2>/dev/null | awk 'match($0, /pid=[0-9]+/) {
	    print $4 "/" substr($0, RSTART + 4, RLENGTH - 4) }' | tr '\n' ' ') "
	live_pids
	next=$(echo "$pending" | while read -r name ip i; do
		log=$S/log/ipmi-$name.log
		if ! alive_pid "$S/pids/ipmi-$name.pid"; then
			echo "FAIL $name: ipmi_sim exited: $(grep -v '^IPMI Simulator version' "$log" 2>/dev/null | tail -n 1)"
			continue
		fi
		case "$bound" in *" $ip:623/$p "*) continue ;; esac
		if grep -q 'Unable to bind' "$log" 2>/dev/null; then
			echo "FAIL $name: ipmi_sim: $(grep 'Unable to bind' "$log" | tail -n 1)"
			continue
		fi
		echo "$name $ip $i"
	done)
	case "$next" in *FAIL*)
		die "BMC $(echo "$next" | grep FAIL | head -n 1 | cut -d' ' -f2-) (log $S/log/)" ;;
	esac
	pending=$next
	[ -z "$pending" ] && break
	left || die "$(echo "$pending" | wc -l) ipmi_sim did not bind port 623 in ${TIMEOUT}s, e.g. $(echo "$pending" | head -n 1)"
	sleep 0.1
done

# Then each answers a real client, end to end through the chassis hook and
# simd: one "ipmipower --stat" for all of them per password, again for
# those that did not answer. Not the BMCs that cannot answer by design
# (bmc-unreachable drops their packets, bmc-slow takes 3 s per hook call):
# for those, the bound port is all we check.
probe=$(echo "$nodes" | while read -r name ip i; do
	case "$silent_nodes" in *" $name "*) continue ;; esac
	read -r mode <"$S/ipmi/$name/mode" || mode=real
	echo "$name $ip $mode"
done)
last=
while [ -n "$probe" ]; do
	for mode in real bad; do
		hosts=$(echo "$probe" | awk -v m="$mode" '$3 == m {print $2}' | paste -sd, -)
		[ -n "$hosts" ] || continue
		if [ $mode = bad ]; then p=$badpass; else p=$pass; fi
		# A long retransmission timeout: a retransmitted request makes
		# ipmi_sim run the hook again, which only adds load at start.
		ipmipower -D LAN_2_0 -W opensesspriv -u admin -p "$p" -h "$hosts" \
		    --stat --session-timeout=8000 --retransmission-timeout=2000 \
		    2>&1 9>&-
	done >"$S/ipmi/probe.out"
	ok=" $(awk '$2 == "on" || $2 == "off" {sub(/:$/, "", $1); print $1}' "$S/ipmi/probe.out" | tr '\n' ' ') "
	probe=$(echo "$probe" | while read -r name ip mode; do
		case "$ok" in *" $ip "*) continue ;; esac
		echo "$name $ip $mode"
	done)
	[ -z "$probe" ] && break
	last=$(grep -v -E ': (on|off)$' "$S/ipmi/probe.out" | head -n 1)
	left || die "$(echo "$probe" | wc -l) BMCs do not answer after ${TIMEOUT}s, e.g. $(echo "$probe" | head -n 1 | cut -d' ' -f1) (${last:-no answer})"
	sleep 0.2
done
rm -f "$S/ipmi/probe.out"
exit 0
