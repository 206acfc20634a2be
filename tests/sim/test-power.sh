#!/bin/sh
# The simulator's power back ends with standard clients: the BMCs
# (ipmi_sim, bmc-up.sh, bmc-ctl.sh) with ipmipower and ipmitool, and the
# PDUs (snmpd + rhubarb-sim-pdu, pdu-up.sh) with snmpget, snmpset and
# snmpwalk; power changed there is the power the CMC (curl) sees, and the
# other way round; the faults bmc-badpass, bmc-unreachable, bmc-slow and
# outlet-stuck do what they say. Needs root.
#
# It brings a 12-node mixed testbed up with rhubarb-sim, runs itself
# inside it ("--inside DIR SIM_BIN", through "rhubarb-sim run"), and takes
# it down on any exit. Every client runs under timeout; every wait is
# bounded. Ends with "N passed, M failed".
set -u
PATH=$PATH:/usr/sbin:/sbin

# --- outside: the testbed -----------------------------------------------

. "$(dirname "$0")/testlib.sh"

if [ "${1:-}" != --inside ]; then
	# Faults from the start: the 3rd and 4th BMC nodes of the mixed
	# layout (node i has a BMC when i % 3 == 2).
	sim_before_up() {
		printf 'fit08 bmc-badpass\nfit11 bmc-unreachable\n' >"$T/faults"
	}
	sim_test_outside test-power.sh 540 --nodes 12 --boot-delay 2
fi

# --- inside the testbed's namespace -------------------------------------

sim_test_inside "$2" "$3"
export MIBS='' SNMP_PERSISTENT_DIR="$S/snmp/client"

pass=$(head -n 1 "$S/bmc.pass")
badpass=$(printf '%s' "$pass" | rev)x
# ipmipower as the issue has it; extra options after the host.
ipmi() { # ipmi PASSWORD HOSTS OPTIONS...
	p=$1
	h=$2
	shift 2
	timeout 60 ipmipower -D LAN_2_0 -W opensesspriv -u admin -p "$p" \
	    -h "$h" "$@" 2>&1
}
itool() { # itool HOST COMMAND...
	h=$1
	shift
	timeout 60 ipmitool -I lanplus -C 3 -H "$h" -U admin -P "$pass" "$@" 2>&1
}
cmc() { timeout 10 curl -sS -m 5 "http://$1/$2" 2>&1; }
cmc_is() { [ "$(cmc "$1" status)" = "$2" ]; }
stat_is() { [ "$(ipmi "$pass" "$1" --stat --session-timeout=3000)" = "$1: $2" ]; }

# The nodes this test uses, from nodes.conf: two with a BMC, one on one
# outlet, one on two outlets ("dual PSU").
bmcs=$(awk '$1 == "node" && $7 != "-" { printf "bmc%02d\n", $3 }' "$S/nodes.conf")
# shellcheck disable=SC2046 # words wanted
set -- $(echo "$bmcs" | head -n 2)
bmc_a=$1
bmc_b=$2
node_a=fit${bmc_a#bmc}
node_b=fit${bmc_b#bmc}
reboot_a=reboot${bmc_a#bmc}
# shellcheck disable=SC2046
set -- $(awk '$1 == "node" && $8 != "-" && $8 !~ /,/ { print $2, $3, $8; exit }' "$S/nodes.conf")
node_x=$1
reboot_x=$(printf 'reboot%02d' "$2")
pdu_x=${3%:*}
out_x=${3#*:}
# shellcheck disable=SC2046
set -- $(awk '$1 == "node" && $8 ~ /,/ { print $2, $3, $8; exit }' "$S/nodes.conf")
node_y=$1
reboot_y=$(printf 'reboot%02d' "$2")
y1=${3%,*}
y2=${3#*,}
echo "BMCs: $(echo "$bmcs" | paste -sd' ' -); nodes $node_a $node_b (IPMI), $node_x ($pdu_x:$out_x), $node_y ($y1 $y2)"

# --- IPMI -----------------------------------------------------------------

# Faults given at start: bmc-up.sh started one BMC with the other password
# and the other cannot be reached; every other BMC answers, all at once,
# and every node starts off.
node_c=$(awk '$2 == "bmc-badpass" { print $1; exit }' "$S/faults.initial")
node_d=$(awk '$2 == "bmc-unreachable" { print $1; exit }' "$S/faults.initial")
bmc_c=bmc${node_c#fit}
bmc_d=bmc${node_d#fit}
clean=$(echo "$bmcs" | grep -v -x -e "$bmc_c" -e "$bmc_d" | paste -sd, -)
out=$(ipmi "$pass" "$clean" --stat)
is "ipmipower --stat on every BMC without fault" "$(echo "$clean" | tr , '\n' | wc -l)" \
    "$(echo "$out" | grep -c ': off$')"
is "bmc-badpass from the start: real password" "$bmc_c: password invalid" \
    "$(ipmi "$pass" "$bmc_c" --stat)"
is "bmc-badpass from the start: the other one" "$bmc_c: off" \
    "$(ipmi "$badpass" "$bmc_c" --stat)"
is "bmc-unreachable from the start" "$bmc_d: connection timeout" \
    "$(ipmi "$pass" "$bmc_d" --stat --session-timeout=2000)"
ctl fault "$node_c" clear >/dev/null
ctl fault "$node_d" clear >/dev/null
wait_until 200 stat_is "$bmc_c" off && ok || ko "clear does not heal $node_c"
is "$node_d reachable after clear" "$bmc_d: off" "$(ipmi "$pass" "$bmc_d" --stat)"

# Power through the BMC is the power the CMC sees, and back.
is "ipmipower --on" "$bmc_a: ok" "$(ipmi "$pass" "$bmc_a" --on)"
is "CMC after ipmipower --on" on "$(cmc "$reboot_a" status)"
is "ipmipower --stat" "$bmc_a: on" "$(ipmi "$pass" "$bmc_a" --stat)"
command -v ipmitool >/dev/null &&
    is "ipmitool status" "Chassis Power is on" "$(itool "$bmc_a" chassis power status)"
is "CMC /off" ok "$(cmc "$reboot_a" off)"
is "ipmipower --stat after CMC off" "$bmc_a: off" "$(ipmi "$pass" "$bmc_a" --stat)"
command -v ipmitool >/dev/null &&
    is "ipmitool status after CMC off" "Chassis Power is off" \
	"$(itool "$bmc_a" chassis power status)"
is "CMC /on" ok "$(cmc "$reboot_a" on)"
is "ipmipower --stat after CMC on" "$bmc_a: on" "$(ipmi "$pass" "$bmc_a" --stat)"
wait_until 60 sh -c "curl -s -m 5 http://$reboot_a/info | grep -q state=installed" ||
    ko "$node_a does not boot after CMC on"
is "ipmipower --reset" "$bmc_a: ok" "$(ipmi "$pass" "$bmc_a" --reset)"
has "CMC info after reset" "chassis=on state=booting" "$(cmc "$reboot_a" info)"
is "ipmipower --off" "$bmc_a: ok" "$(ipmi "$pass" "$bmc_a" --off)"
is "CMC after ipmipower --off" off "$(cmc "$reboot_a" status)"
is "ipmipower --reset of a node off" "$bmc_a: ok" "$(ipmi "$pass" "$bmc_a" --reset)"
is "still off after reset" off "$(cmc "$reboot_a" status)"
ipmi "$pass" "$bmc_a" --on >/dev/null
# Cycle: ipmi_sim turns the chassis off, and on again a second later (simd
# logs the off; the node boots again).
offs=$(grep -c "$node_a: chassis off" "$S/log/simd.log")
is "ipmipower --cycle" "$bmc_a: ok" "$(ipmi "$pass" "$bmc_a" --cycle)"
wait_until 50 cmc_is "$reboot_a" on && ok || ko "$node_a not on again after cycle"
is "chassis off during the cycle" $((offs + 1)) \
    "$(grep -c "$node_a: chassis off" "$S/log/simd.log")"
has "CMC info after cycle" "state=booting" "$(cmc "$reboot_a" info)"
if command -v ipmitool >/dev/null; then
	is "ipmitool power off" "Chassis Power Control: Down/Off" \
	    "$(itool "$bmc_a" chassis power off)"
	is "CMC after ipmitool off" off "$(cmc "$reboot_a" status)"
	is "ipmitool power on" "Chassis Power Control: Up/On" \
	    "$(itool "$bmc_a" chassis power on)"
	is "CMC after ipmitool on" on "$(cmc "$reboot_a" status)"
else
	ko "ipmitool is not installed (Debian package ipmitool)"
	ipmi "$pass" "$bmc_a" --on >/dev/null
fi
# Two BMCs in one call: each has its own node.
out=$(ipmi "$pass" "$bmc_a,$bmc_b" --stat | sort | tr '\n' ' ')
is "two BMCs" "$bmc_a: on $bmc_b: off " "$out"

# Authentication.
is "wrong password" "$bmc_a: password invalid" "$(ipmi "${pass}z" "$bmc_a" --stat)"
out=$(timeout 60 ipmipower -D LAN_2_0 -W opensesspriv -u root -p "$pass" -h "$bmc_a" --stat 2>&1)
is "wrong user" "$bmc_a: username invalid" "$out"
command -v ipmitool >/dev/null &&
    has "ipmitool, wrong password" "Unable to establish IPMI v2" \
	"$(timeout 60 ipmitool -I lanplus -C 3 -H "$bmc_a" -U admin -P nope chassis power status 2>&1)"

# bmc-ctl.sh by hand: synchronous, keeps the pid file right.
pid0=$(cat "$S/pids/ipmi-$node_b.pid")
out=$(timeout 60 sh "$SIM_BIN/bmc-ctl.sh" "$D" "$node_b" badpass 2>&1)
is "bmc-ctl.sh badpass" "0 " "$? $out"
pid1=$(cat "$S/pids/ipmi-$node_b.pid")
[ "$pid1" != "$pid0" ] && ok || ko "bmc-ctl.sh: same pid $pid1"
is "the pid file names the new ipmi_sim" ipmi_sim "$(cat "/proc/$pid1/comm" 2>/dev/null)"
kill -0 "$pid0" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid0/stat")" != Z ] &&
    ko "the old ipmi_sim $pid0 still runs" || ok
is "real password after bmc-ctl.sh badpass" "$bmc_b: password invalid" \
    "$(ipmi "$pass" "$bmc_b" --stat)"
is "bad password after bmc-ctl.sh badpass" "$bmc_b: off" "$(ipmi "$badpass" "$bmc_b" --stat)"
out=$(timeout 60 sh "$SIM_BIN/bmc-ctl.sh" "$D" "$node_b" clear 2>&1)
is "bmc-ctl.sh clear" "0 " "$? $out"
is "real password after clear" "$bmc_b: off" "$(ipmi "$pass" "$bmc_b" --stat)"
out=$(timeout 60 sh "$SIM_BIN/bmc-ctl.sh" "$D" "$node_x" badpass 2>&1)
is "bmc-ctl.sh on a node without BMC" \
    "1 bmc-ctl.sh: $node_x: no such node with a BMC in $S/nodes.conf" "$? $out"

# bmc-badpass: simd restarts the BMC with another password.
is "fault bmc-badpass" ok "$(ctl fault "$node_a" bmc-badpass)"
wait_until 200 sh -c "ipmipower -D LAN_2_0 -W opensesspriv -u admin -p '$pass' -h $bmc_a --stat --session-timeout=2000 | grep -q 'password invalid'" &&
    ok || ko "bmc-badpass: the real password still works"
is "bmc-badpass: real password" "$bmc_a: password invalid" "$(ipmi "$pass" "$bmc_a" --stat)"
is "bmc-badpass: the other password" "$bmc_a: on" "$(ipmi "$badpass" "$bmc_a" --stat)"
is "fault clear" ok "$(ctl fault "$node_a" clear)"
wait_until 200 stat_is "$bmc_a" on && ok || ko "clear does not heal bmc-badpass"

# bmc-unreachable: nothing answers.
is "fault bmc-unreachable" ok "$(ctl fault "$node_a" bmc-unreachable)"
is "bmc-unreachable" "$bmc_a: connection timeout" \
    "$(ipmi "$pass" "$bmc_a" --stat --session-timeout=2000)"
is "CMC still answers" on "$(cmc "$reboot_a" status)"
ctl fault "$node_a" clear >/dev/null
is "bmc-unreachable cleared" "$bmc_a: on" "$(ipmi "$pass" "$bmc_a" --stat)"

# bmc-slow: the chassis hook answers after 3 s, and ipmi_sim runs it again
# for every retransmitted request. Count the hook's runs for one --off by
# watching the processes: each run lives 3 s, ps every 0.25 s sees it.
count_off() { # count_off RETRANSMIT_MS SESSION_MS: hook runs for one --off
	: >"$T/pids"
	ipmi "$pass" "$bmc_a" --off --retransmission-timeout="$1" \
	    --session-timeout="$2" >"$T/off.out" &
	ipid=$!
	quiet=0
	n=0
	# Until ipmipower is done and no run was seen for 4 s (ipmi_sim works
	# through the retransmissions it queued); 60 s at most.
	while [ $n -lt 240 ]; do
		ps -e -o pid=,args= | awk -v n="$node_a" '
		    $2 ~ /rhubarb-sim-ctl$/ && index($0, "chassis " n " set power 0") { print $1 }' \
		    >"$T/now"
		cat "$T/now" >>"$T/pids"
		if [ -s "$T/now" ] || kill -0 $ipid 2>/dev/null; then
			quiet=0
		else
			quiet=$((quiet + 1))
			[ $quiet -ge 16 ] && break
		fi
		n=$((n + 1))
		sleep 0.25
	done
	wait $ipid
	sort -u "$T/pids" | wc -l
}
is "fault bmc-slow" ok "$(ctl fault "$node_a" bmc-slow)"
t0=$(date +%s)
runs=$(count_off 5000 20000)
is "bmc-slow, retransmit 5 s: hook runs" 1 "$runs"
is "bmc-slow, retransmit 5 s: result" "$bmc_a: ok" "$(cat "$T/off.out")"
is "bmc-slow: CMC after --off" off "$(cmc "$reboot_a" status)"
runs=$(count_off 1000 4000)
[ "$runs" -gt 1 ] && ok || ko "bmc-slow, retransmit 1 s: hook ran $runs times, want more than once"
echo "bmc-slow: one --off ran the hook once with a 5 s retransmit, $runs times with 1 s ($(($(date +%s) - t0)) s)"
ctl fault "$node_a" clear >/dev/null
is "bmc-slow cleared" "$bmc_a: off" "$(ipmi "$pass" "$bmc_a" --stat)"

# --- PDUs (SNMP, Sentry3) -------------------------------------------------

O=.1.3.6.1.4.1.1718.3.2.3.1
sget() { timeout 30 snmpget -v2c -c public -On -Oqv "$@" 2>&1; }
sset() { timeout 30 snmpset -v2c -c private -On -Oqv "$@" 2>&1; }
status_is() { [ "$(sget "$1" "$O.5.1.1.$2")" = "$3" ]; }

# A full walk: every row once, in order (snmpwalk stops on a non-increasing
# OID), and what each PDU's rows say. Our subtree is the last of the
# agent's view, so the walk ends on "No more variables" (endOfMibView).
for pdu in $(awk '$1 == "pdu" { print $2 }' "$S/nodes.conf"); do
	n=$(awk -v p="$pdu" '$1 == "pdu" && $2 == p { print $4 }' "$S/nodes.conf")
	timeout 60 snmpwalk -v2c -c public -On "$pdu" .1.3.6.1.4.1.1718.3 >"$T/walk" 2>&1
	is "$pdu: snmpwalk rows" $((2 + 6 * n)) \
	    "$(grep -v 'No more variables' "$T/walk" | grep -c '^\.1\.3\.6\.1\.4\.1\.1718\.3\.')"
	grep -q 'not increasing' "$T/walk" && ko "$pdu: walk order" || ok
	is "$pdu: last row" "$O.11.1.1.$n = INTEGER: 0" \
	    "$(grep -v 'No more variables' "$T/walk" | tail -n 1)"
	has "$pdu: systemTowerCount" ".1.3.6.1.4.1.1718.3.1.4.0 = INTEGER: 1" "$(cat "$T/walk")"
	has "$pdu: outletID" "$O.2.1.1.$n = STRING: \"AA$n\"" "$(cat "$T/walk")"
	# The status of every outlet is simd's.
	timeout 60 snmpwalk -v2c -c public -On -Oq "$pdu" "$O.5" >"$T/st" 2>&1
	is "$pdu: outlet status rows" "$n" "$(grep -c "^$O.5.1.1" "$T/st")"
	bad=0
	i=1
	while [ $i -le "$n" ]; do
		want=$(ctl outlet "$pdu" "$i" get | sed 's/^ok //')
		grep -q "^$O.5.1.1.$i $want\$" "$T/st" || bad=$((bad + 1))
		i=$((i + 1))
	done
	is "$pdu: every outlet status as simd has it" 0 "$bad"
done
is "outletName of $node_x's outlet" "\"$node_x\"" "$(sget "$pdu_x" "$O.3.1.1.$out_x")"
has "systemVersion" "Sentry Switched CDU" "$(sget "$pdu_x" .1.3.6.1.4.1.1718.3.1.1.0)"
is "sysObjectID" ".1.3.6.1.4.1.1718.3" "$(sget "$pdu_x" .1.3.6.1.2.1.1.2.0)"

# On and off through the outlet; the node follows (AC, chassis on again).
is "outlet on" 1 "$(sset "$pdu_x" "$O.11.1.1.$out_x" i 1)"
is "outlet status on" 1 "$(sget "$pdu_x" "$O.5.1.1.$out_x")"
is "outlet control state idleOn" 1 "$(sget "$pdu_x" "$O.10.1.1.$out_x")"
is "controlAction reads none" 0 "$(sget "$pdu_x" "$O.11.1.1.$out_x")"
is "CMC of $node_x after outlet on" on "$(cmc "$reboot_x" status)"
is "outlet off" 2 "$(sset "$pdu_x" "$O.11.1.1.$out_x" i 2)"
is "outlet status off" 0 "$(sget "$pdu_x" "$O.5.1.1.$out_x")"
is "CMC of $node_x after outlet off" off "$(cmc "$reboot_x" status)"
sset "$pdu_x" "$O.11.1.1.$out_x" i 1 >/dev/null
# Reboot: a transition state (onWait, pendOn), then on.
is "outlet reboot" 3 "$(sset "$pdu_x" "$O.11.1.1.$out_x" i 3)"
st=$(sget "$pdu_x" "$O.5.1.1.$out_x")
case "$st" in 2 | 3) ok ;; *) ko "outlet status right after reboot: $st, want 2 or 3" ;; esac
cs=$(sget "$pdu_x" "$O.10.1.1.$out_x")
case "$cs" in 10 | 11) ok ;; *) ko "outlet control state right after reboot: $cs, want 10 or 11" ;; esac
is "CMC of $node_x during the reboot" off "$(cmc "$reboot_x" status)"
wait_until 80 status_is "$pdu_x" "$out_x" 1 && ok || ko "outlet not on again after reboot"
is "CMC of $node_x after the reboot" on "$(cmc "$reboot_x" status)"

# Two outlets: the node stays on while one of them is on.
p1=${y1%:*} o1=${y1#*:} p2=${y2%:*} o2=${y2#*:}
sset "$p1" "$O.11.1.1.$o1" i 1 >/dev/null
sset "$p2" "$O.11.1.1.$o2" i 1 >/dev/null
is "$node_y with both outlets on" on "$(cmc "$reboot_y" status)"
is "$node_y: first outlet off" 2 "$(sset "$p1" "$O.11.1.1.$o1" i 2)"
is "$node_y: first outlet status" 0 "$(sget "$p1" "$O.5.1.1.$o1")"
is "$node_y still on with one outlet" on "$(cmc "$reboot_y" status)"
is "$node_y: second outlet off" 2 "$(sset "$p2" "$O.11.1.1.$o2" i 2)"
is "$node_y off with both outlets off" off "$(cmc "$reboot_y" status)"
sset "$p2" "$O.11.1.1.$o2" i 1 >/dev/null
is "$node_y on again with one outlet" on "$(cmc "$reboot_y" status)"

# SET errors, as a Sentry3 gives them.
has "SET with community public" noAccess \
    "$(timeout 30 snmpset -v2c -c public "$pdu_x" "$O.11.1.1.$out_x" i 1 2>&1)"
has "SET value 9" wrongValue "$(sset "$pdu_x" "$O.11.1.1.$out_x" i 9)"
has "SET value 0" wrongValue "$(sset "$pdu_x" "$O.11.1.1.$out_x" i 0)"
has "SET a string" wrongType "$(sset "$pdu_x" "$O.11.1.1.$out_x" s on)"
has "SET outletStatus" notWritable "$(sset "$pdu_x" "$O.5.1.1.$out_x" i 1)"
has "SET outletName" notWritable "$(sset "$pdu_x" "$O.3.1.1.$out_x" s foo)"
n=$(awk -v p="$pdu_x" '$1 == "pdu" && $2 == p { print $4 }' "$S/nodes.conf")
has "SET an outlet that does not exist" notWritable \
    "$(sset "$pdu_x" "$O.11.1.1.$((n + 1))" i 1)"
has "GET an outlet that does not exist" "No Such Instance" \
    "$(sget "$pdu_x" "$O.5.1.1.$((n + 1))")"
is "state unchanged by the failed SETs" 1 "$(sget "$pdu_x" "$O.5.1.1.$out_x")"

# outlet-stuck: the SET is accepted, the outlet never changes.
is "fault outlet-stuck" ok "$(ctl fault "$node_x" outlet-stuck)"
is "stuck outlet: SET accepted" 2 "$(sset "$pdu_x" "$O.11.1.1.$out_x" i 2)"
sleep 2.5
is "stuck outlet: status" 1 "$(sget "$pdu_x" "$O.5.1.1.$out_x")"
is "stuck outlet: node still on" on "$(cmc "$reboot_x" status)"
ctl fault "$node_x" clear >/dev/null
is "outlet off after clear" 2 "$(sset "$pdu_x" "$O.11.1.1.$out_x" i 2)"
is "outlet status off after clear" 0 "$(sget "$pdu_x" "$O.5.1.1.$out_x")"

sim_test_finish
