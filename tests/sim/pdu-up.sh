#!/bin/sh
# pdu-up.sh DIR: start the simulated PDUs (tests/sim/DESIGN.md). For every
# "pdu NAME IP NOUTLETS" line of DIR/sim/nodes.conf, one real net-snmp
# snmpd on udp IP:161 (communities public, read, and private, read-write,
# both for 127.0.0.0/8 only) whose ServerTech Sentry3 subtree
# .1.3.6.1.4.1.1718.3 is served by "rhubarb-sim-pdu DIR NAME" through
# pass_persist; outlet state is simd's. Config and persistent state in
# DIR/sim/snmp/NAME/, the pid (snmpd's own: it runs in the foreground, -f,
# and this script puts it in the background) in DIR/sim/pids/snmpd-NAME.pid,
# the log in DIR/sim/log/snmpd-NAME.log. All start at once; then it waits,
# bounded, until each answers an snmpget, and exits 0, or 1 with a
# one-line error (2: bad usage).
#
# snmpd flags: -C reads no config but ours; -I loads only the modules a
# PDU needs (the system group, the community/VACM directives and
# pass_persist), which also leaves out smux (no "bind failed" on tcp 199)
# and halves snmpd's memory (2.2 against 4.1 MiB PSS each, measured); MIBS=
# (empty) loads no MIB files (Debian lacks the non-free ones and would log
# hundreds of errors). SNMP_PERSISTENT_DIR keeps net-snmp out of
# /var/lib/snmp, for the clients we run too.
set -u
prog=pdu-up.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}
[ $# -eq 1 ] || {
	echo "usage: $prog DIR" >&2
	exit 2
}
PATH=$PATH:/usr/sbin:/sbin
DIR=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
SIM_BIN=$(cd "$(dirname "$0")" && pwd)
S=$DIR/sim
SNMPD=${SNMPD:-/usr/sbin/snmpd}
# Seconds to wait for all of them to answer.
TIMEOUT=${RHUBARB_SIM_PDU_TIMEOUT:-30}
SENTRY3=.1.3.6.1.4.1.1718.3

# snmpd.conf splits pass_persist's command on blanks.
case "$DIR$SIM_BIN" in *[!A-Za-z0-9/._-]*)
	die "$DIR, $SIM_BIN: directory names must be plain [A-Za-z0-9/._-]" ;;
esac
[ -r "$S/nodes.conf" ] || die "$S/nodes.conf: cannot read"
[ -x "$SIM_BIN/rhubarb-sim-pdu" ] || die "$SIM_BIN/rhubarb-sim-pdu: not found"
[ -x "$SNMPD" ] || die "$SNMPD not found (Debian package snmpd)"
command -v snmpget >/dev/null || die "snmpget not found (Debian package snmp)"

pdus=$(awk '$1 == "pdu" && NF == 4 { print $2, $3 }' "$S/nodes.conf") ||
    die "$S/nodes.conf: cannot parse"
[ -n "$pdus" ] || exit 0
mkdir -p "$S/pids" "$S/log" "$S/snmp/client" || die "cannot create $S/snmp"
export MIBS='' SNMP_PERSISTENT_DIR="$S/snmp/client"

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

live_pids
echo "$pdus" | while read -r name ip; do
	alive_pid "$S/pids/snmpd-$name.pid" && continue
	d=$S/snmp/$name
	mkdir -p "$d/persist" || exit 1
	cat >"$d/snmpd.conf" <<EOF || exit 1
# snmpd of the simulated PDU $name, written by pdu-up.sh
agentAddress udp:$ip:161
rocommunity public 127.0.0.0/8
rwcommunity private 127.0.0.0/8
sysName $name
sysDescr Sentry Switched CDU (rhubarb-sim $name)
sysObjectID $SENTRY3
sysLocation rhubarb-sim
sysContact root
pass_persist $SENTRY3 $SIM_BIN/rhubarb-sim-pdu $DIR $name
[snmp] persistentDir $d/persist
dontLogTCPWrappersConnects yes
EOF
	# In the foreground (-f) and put in the background here: $! is
	# snmpd's own pid. It logs on stdout (-Lo), into its log, where the
	# stderr of rhubarb-sim-pdu goes too.
	SNMP_PERSISTENT_DIR=$d/persist "$SNMPD" -f -C \
	    -I system_mib,vacm_conf,pass_persist -c "$d/snmpd.conf" -Lo \
	    </dev/null >>"$S/log/snmpd-$name.log" 2>&1 &
	echo $! >"$S/pids/snmpd-$name.pid"
done || die "cannot write the PDU configurations in $S/snmp"

# Wait until each answers systemTowerCount (served by rhubarb-sim-pdu, so
# this checks snmpd and the pass_persist link): one snmpget per PDU, all in
# parallel, again for those that did not answer.
t0=$(date +%s)
pending=$pdus
while :; do
	rm -rf "$S/snmp/probe"
	mkdir -p "$S/snmp/probe"
	(
		echo "$pending" | while read -r name ip; do
			snmpget -v2c -c public -t 1 -r 0 -Oqv "$ip" \
			    "$SENTRY3.1.4.0" >"$S/snmp/probe/$name" 2>&1 &
		done
		wait
	)
	live_pids
	pending=$(echo "$pending" | while read -r name ip; do
		[ "$(cat "$S/snmp/probe/$name")" = 1 ] && continue
		if ! alive_pid "$S/pids/snmpd-$name.pid"; then
			log=$S/log/snmpd-$name.log
			why=$(grep -i 'error' "$log" | tail -n 1)
			echo "DEAD $name: ${why:-$(tail -n 1 "$log")}"
		fi
		echo "$name $ip"
	done)
	[ -z "$pending" ] && break
	case "$pending" in *DEAD*)
		die "PDU $(echo "$pending" | grep DEAD | head -n 1 | cut -d' ' -f2-) (snmpd exited; log $S/log/)" ;;
	esac
	[ $(($(date +%s) - t0)) -lt "$TIMEOUT" ] ||
	    die "$(echo "$pending" | wc -l) PDUs do not answer after ${TIMEOUT}s, e.g. $(echo "$pending" | head -n 1) ($(head -n 1 "$S/snmp/probe/$(echo "$pending" | head -n 1 | cut -d' ' -f1)"))"
	sleep 0.2
done
rm -rf "$S/snmp/probe"
exit 0
