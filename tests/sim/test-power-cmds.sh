#!/bin/sh
# The power commands (ron, roff, rreset, rcycle, rstatus, rinfo) end to end
# on the simulated testbed, with the real ipmi_sim BMCs and snmpd PDUs:
# each command on each back end and on mixed sets, checked with the
# testbed's own clients (curl on the CMC, ipmipower, snmpget) and its log;
# the dual-outlet node cycled as one power domain; each fault (cmc-dead,
# bmc-unreachable, bmc-badpass, bmc-slow answered once, outlet-stuck);
# mixed sets where some nodes fail and the rest succeed (exit 1); the
# audit log; --lines, --json, --rhubarbe; usage errors (exit 2, nothing
# touched); a password file readable by others refused; and rhubarb's
# status of the BMCs equal to ipmipower --stat's. Needs root.
#
# It brings a 12-node mixed testbed up, runs itself inside it ("--inside
# DIR SIM_BIN"), and takes it down on any exit. Every wait is bounded.
# Ends with "N passed, M failed".
set -u
PATH=$PATH:/usr/sbin:/sbin

# --- outside: the testbed -----------------------------------------------

. "$(dirname "$0")/testlib.sh"

if [ "${1:-}" != --inside ]; then
	# Short timeouts and delays keep the faults quick.
	sim_after_up() {
		cat >>"$D/rhubarb.conf" <<-EOF

		[power]
		ipmi_timeout = 3
		pdu_timeout = 4
		cmc_settle = 1
		ipmi_settle = 1
		pdu_settle = 1

		[nodes]
		cmc_default_timeout = 2
		EOF
	}
	sim_test_outside test-power-cmds.sh 540 --nodes 12 --boot-delay 1
fi

# --- inside the testbed's namespace -------------------------------------

sim_test_inside "$2" "$3"
AUDIT=$D/state/audit.jsonl

pass=$(head -n 1 "$S/bmc.pass")
ipmi() { # ipmi HOSTS OPTIONS...
	h=$1
	shift
	timeout 60 ipmipower -D LAN_2_0 -W opensesspriv -u admin -p "$pass" \
	    -h "$h" --session-timeout=3000 "$@" 2>&1
}
cmc() { timeout 10 curl -sS -m 5 "http://$1/$2" 2>&1; }
O=.1.3.6.1.4.1.1718.3.2.3.1
outlet() { timeout 30 snmpget -v2c -c public -On -Oqv "$1" "$O.5.1.1.$2" 2>&1; }
chassis_offs() { grep -c "$1: .*chassis off" "$S/log/simd.log"; }

# The mixed layout (rhubarb-sim DESIGN.md): CMC nodes 1 4 7 10, BMC nodes
# 2 5 8 11, PDU nodes 3 6 9 12; 6 and 12 sit on two outlets.
is "layout: fit02 has a BMC" "127.3.0.2" \
    "$(awk '$2 == "fit02" { print $7 }' "$S/nodes.conf")"
is "layout: fit06 on two outlets" "pdu1:2,pdu2:10" \
    "$(awk '$2 == "fit06" { print $8 }' "$S/nodes.conf")"

# --- status of everything; every node starts off -------------------------

r rstatus -a
is "rstatus -a at start" "off: fit[01-12]" "$out"
is "rstatus -a exit" 0 "$rc"
is "rstatus -a stderr" "" "$err"
# -q: just the table (the default); -v: the run on stderr, same table.
r rstatus -q -a
is "rstatus -q -a" "off: fit[01-12]" "$out"
is "rstatus -q -a stderr" "" "$err"
r rstatus -v fit01 fit02
is "rstatus -v table" "off: fit[01-02]" "$out"
is "rstatus -v: the run on stderr" 1 "$(echo "$err" | grep -c 'status: 2 nodes: 2 ok')"
r rhubarb status --lines -a
is "--lines: one line per node" 12 "$(echo "$out" | grep -c ': off$')"
is "--lines: first line" "fit01: off" "$(echo "$out" | head -n 1)"
r rhubarb status --rhubarbe 1-3
is "--rhubarbe" "reboot01:off reboot02:off reboot03:off" "$(echo "$out" | tr '\n' ' ' | sed 's/ $//')"
is "status changes nothing: no audit line" 0 "$(audit_lines)"

# --- each action on each back end ---------------------------------------

# on: CMC fit01, BMC fit02, PDU fit03, dual PDU fit06.
r ron fit01 fit02 fit03 fit06
is "ron on each back end" "ok: fit[01-03,06]" "$out"
is "ron exit" 0 "$rc"
is "CMC after ron" on "$(cmc reboot01 status)"
is "BMC after ron" "bmc02: on" "$(ipmi bmc02 --stat)"
is "outlet after ron" 1 "$(outlet pdu1 1)"
is "fit06 outlets after ron" "1 1" "$(outlet pdu1 2) $(outlet pdu2 10)"
r rstatus 1-6
is "rstatus after ron" "on: fit[01-03,06]
off: fit[04-05]" "$out"
is "rstatus exit" 0 "$rc"
is "audit: one line per action" 1 "$(audit_lines)"

# info on each back end.
r rinfo fit01 fit02 fit03 fit06
is "rinfo CMC" "fit01: fit01 chassis=on state=booting" \
    "$(echo "$out" | grep '^fit01' | sed 's/state=installed/state=booting/')"
has "rinfo BMC" "fit02: power on" "$out"
is "rinfo PDU" "fit03: pdu1 outlet 1: on" "$(echo "$out" | grep '^fit03')"
is "rinfo dual PDU" "fit06: pdu1 outlet 2: on, pdu2 outlet 10: on" \
    "$(echo "$out" | grep '^fit06')"
is "rinfo exit" 0 "$rc"
is "info changes nothing: no audit line" 1 "$(audit_lines)"

# reset: the CMC and BMC nodes reboot (simd logs the reset), the PDU node
# goes off then on.
wait_until 50 sh -c "curl -s -m 2 http://reboot01/info | grep -q state=installed"
# A node still booting logs no new "-> booting" line: wait for fit02 too.
wait_until 50 sh -c "curl -s -m 2 http://reboot02/info | grep -q state=installed"
b1=$(grep -c 'fit01: installed -> booting (cmc reset)' "$S/log/simd.log")
b2=$(grep -c 'fit02: .* -> booting (ctl power reset)' "$S/log/simd.log")
o3=$(chassis_offs fit03)
r rreset fit01 fit02 fit03
is "rreset on each back end" "ok: fit[01-03]" "$out"
is "rreset exit" 0 "$rc"
is "CMC reset done" $((b1 + 1)) \
    "$(grep -c 'fit01: installed -> booting (cmc reset)' "$S/log/simd.log")"
is "BMC reset done" $((b2 + 1)) \
    "$(grep -c 'fit02: .* -> booting (ctl power reset)' "$S/log/simd.log")"
is "PDU reset: off once" $((o3 + 1)) "$(chassis_offs fit03)"
is "PDU reset: on again" 1 "$(outlet pdu1 1)"

# reset of a node that is off: reads off afterwards, so it failed.
r rreset fit04
is "rreset of a node off" "failed: fit04 (reads off after reset)" "$out"
is "rreset of a node off: exit" 1 "$rc"

# cycle: off, read back, settle, on, read back, on every back end.
o1=$(chassis_offs fit01)
o2=$(chassis_offs fit02)
o3=$(chassis_offs fit03)
r rcycle fit01 fit02 fit03
is "rcycle on each back end" "ok: fit[01-03]" "$out"
is "rcycle exit" 0 "$rc"
is "CMC cycle: off once" $((o1 + 1)) "$(chassis_offs fit01)"
is "BMC cycle: off once" $((o2 + 1)) "$(chassis_offs fit02)"
is "PDU cycle: off once" $((o3 + 1)) "$(chassis_offs fit03)"
r rstatus fit01 fit02 fit03
is "on after rcycle" "on: fit[01-03]" "$out"

# The dual-outlet node is one power domain: both outlets off (the node
# loses power), then both on; with one outlet cycled it would stay up.
n0=$(wc -l <"$S/log/simd.log")
r rcycle fit06
is "rcycle of the dual-outlet node" "ok: fit06" "$out"
tail -n +"$((n0 + 1))" "$S/log/simd.log" >"$T/log"
off1=$(grep -n 'pdu1:2: off' "$T/log" | head -n 1 | cut -d: -f1)
off2=$(grep -n 'pdu2:10: off' "$T/log" | head -n 1 | cut -d: -f1)
on1=$(grep -n 'pdu1:2: on' "$T/log" | head -n 1 | cut -d: -f1)
on2=$(grep -n 'pdu2:10: on' "$T/log" | head -n 1 | cut -d: -f1)
if [ -n "$off1" ] && [ -n "$off2" ] && [ -n "$on1" ] && [ -n "$on2" ] &&
    [ "$on1" -gt "$off1" ] && [ "$on1" -gt "$off2" ] &&
    [ "$on2" -gt "$off1" ] && [ "$on2" -gt "$off2" ]; then
	ok
else
	ko "dual outlet: both off before either on ($off1 $off2 $on1 $on2)"
fi
has "dual outlet: the node lost power" "fit06: AC off, chassis off" "$(cat "$T/log")"
is "dual outlet: both on at the end" "1 1" "$(outlet pdu1 2) $(outlet pdu2 10)"

# off on each back end, and the mixed status.
r roff fit01 fit02 fit03 fit06
is "roff on each back end" "ok: fit[01-03,06]" "$out"
is "CMC after roff" off "$(cmc reboot01 status)"
is "BMC after roff" "bmc02: off" "$(ipmi bmc02 --stat)"
is "outlets after roff" "0 0 0" "$(outlet pdu1 1) $(outlet pdu1 2) $(outlet pdu2 10)"

# A whole mixed set at once.
r ron -a
is "ron -a" "ok: fit[01-12]" "$out"
r rstatus -a
is "rstatus -a after ron -a" "on: fit[01-12]" "$out"
r roff -a --json
is "roff -a --json: exit" 0 "$rc"
is "roff -a --json: ok" True \
    "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ok"])')"
is "roff -a --json: nodes" 12 \
    "$(echo "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["nodes"]))')"
is "roff -a --json: back ends" "cmc ipmi pdu" \
    "$(echo "$out" | python3 -c 'import json,sys; print(" ".join(sorted({n["backend"] for n in json.load(sys.stdin)["nodes"]})))')"

# --- faults -----------------------------------------------------------------

# cmc-dead: unknown (connection timeout), never off.
ctl fault fit04 cmc-dead >/dev/null
r rstatus fit04 fit07
is "cmc-dead: status" "off: fit07
unknown: fit04 (connection timeout)" "$out"
is "cmc-dead: exit 1" 1 "$rc"
r rstatus --rhubarbe fit04
is "cmc-dead: rhubarbe form" "reboot04:status N/A" "$out"
r rstatus --lines fit04
is "cmc-dead: lines" "fit04: unknown (connection timeout)" "$out"
ctl fault fit04 clear >/dev/null

# bmc-unreachable: connection timeout too.
ctl fault fit05 bmc-unreachable >/dev/null
r rstatus fit05
is "bmc-unreachable" "unknown: fit05 (connection timeout)" "$out"
ctl fault fit05 clear >/dev/null

# bmc-badpass: password invalid, for status and actions.
ctl fault fit08 bmc-badpass >/dev/null
wait_until 200 sh -c "ipmipower -D LAN_2_0 -W opensesspriv -u admin -p '$pass' -h bmc08 --stat --session-timeout=2000 | grep -q 'password invalid'" ||
    ko "bmc-badpass did not take"
r rstatus fit08
is "bmc-badpass: status" "unknown: fit08 (password invalid)" "$out"

# Mixed sets: the failing nodes fail, the others succeed, exit 1.
ctl fault fit04 cmc-dead >/dev/null
ctl fault fit09 outlet-stuck >/dev/null
a0=$(audit_lines)
r ron -a
is "ron -a with faults: exit 1" 1 "$rc"
is "ron -a with faults" "ok: fit[01-03,05-07,10-12]
failed: fit04 (connection timeout)
failed: fit08 (password invalid)
failed: fit09 (timeout: outlet stuck off)" "$out"
is "stuck outlet: its neighbours on pdu1 switched" "1 1 1" \
    "$(outlet pdu1 1) $(outlet pdu1 2) $(outlet pdu1 4)"
is "audit: a line for the failed run" $((a0 + 1)) "$(audit_lines)"
line=$(tail -n 1 "$AUDIT")
py='import json,sys; a=json.loads(sys.argv[1]); print(a["action"], a["nodes"], a["user"], " ".join(a["backends"]), a["results"].get("ok"), a["results"].get("power-unreachable"), a["results"].get("power-auth"), a["results"].get("power-timeout"), a["interrupted"], type(a["duration"]).__name__, a["time"][-1])'
is "audit: fields" "on fit[01-12] root cmc ipmi pdu fit[01-03,05-07,10-12] fit04 fit08 fit09 False float Z" \
    "$(python3 -c "$py" "$line" 2>&1)"
lacks "audit: no password in it" "$pass" "$(cat "$AUDIT")"
r rstatus -a
is "rstatus -a with faults" "on: fit[01-03,05-07,10-12]
unknown: fit04 (connection timeout)
unknown: fit08 (password invalid)" "$(echo "$out" | grep -v '^off: fit09')"
has "stuck outlet reads off (it never came on)" "off: fit09" "$out"
for n in fit04 fit08 fit09; do ctl fault $n clear >/dev/null; done
wait_until 200 sh -c "ipmipower -D LAN_2_0 -W opensesspriv -u admin -p '$pass' -h bmc08 --stat --session-timeout=2000 | grep -q ': o'" ||
    ko "bmc08 not healed"

# bmc-slow: the chassis hook answers after 3 s; one roff runs it once
# (Chassis Control is retransmitted after 5 s only). Count the runs of
# the hook by watching the processes, as test-power.sh does.
ctl fault fit11 bmc-slow >/dev/null
: >"$T/pids"
timeout 60 roff -o power.ipmi_timeout=15 -o power.ipmi_retransmit=4 fit11 >"$T/slow.out" 2>&1 &
bg=$!
quiet=0
n=0
while [ $n -lt 240 ]; do
	ps -e -o pid=,args= | awk '
	    $2 ~ /rhubarb-sim-ctl$/ && index($0, "chassis fit11 set power 0") { print $1 }' \
	    >"$T/now"
	cat "$T/now" >>"$T/pids"
	if [ -s "$T/now" ] || kill -0 $bg 2>/dev/null; then
		quiet=0
	else
		quiet=$((quiet + 1))
		[ $quiet -ge 16 ] && break
	fi
	n=$((n + 1))
	sleep 0.25
done
wait $bg
is "bmc-slow: roff result" "ok: fit11" "$(cat "$T/slow.out")"
is "bmc-slow: chassis control executed once" 1 "$(sort -u "$T/pids" | wc -l)"
ctl fault fit11 clear >/dev/null
is "bmc-slow: off" "bmc11: off" "$(ipmi bmc11 --stat)"

# --- usage errors: exit 2, nothing touched ---------------------------------

a0=$(audit_lines)
before=$(ipmi bmc02 --stat)
r ron fit99
is "unknown node: exit" 2 "$rc"
has "unknown node: message" "fit99" "$err"
r rstatus --via bogus 1
is "unknown --via: exit" 2 "$rc"
has "unknown --via: message" "unknown back end 'bogus'" "$err"
r ron --via ipmi fit01 fit02 fit04
is "--via ipmi on CMC nodes: exit" 2 "$rc"
has "--via ipmi on CMC nodes: message" "fit[01,04]: no ipmi back end" "$err"
is "--via refused: fit02 untouched" "$before" "$(ipmi bmc02 --stat)"
r rcycle -t 0.5 fit03
is "-t shorter than the settle delay: exit" 2 "$rc"
has "-t shorter than the settle delay: message" "shorter than the delays of cycle" "$err"
r rstatus --lines --json 1
is "two output forms: exit" 2 "$rc"
r rstatus -t nope 1
is "bad -t: exit" 2 "$rc"
is "usage errors: no audit line" "$a0" "$(audit_lines)"

# --via: a node with both a CMC and a BMC, through either.
r ron --via cmc fit02
is "--via cmc on a BMC node" "ok: fit02" "$out"
is "--via cmc: the BMC sees it" "bmc02: on" "$(ipmi bmc02 --stat)"
r roff --via ipmi fit02 --json
is "--via ipmi: back end in JSON" ipmi \
    "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["backend"])')"

# --- a password file readable by others is refused -------------------------

cp "$S/bmc.pass" "$T/pass644"
chmod 644 "$T/pass644"
sed "s|$S/bmc.pass|$T/pass644|" "$D/inventory-nodes.json" >"$T/inv644.json"
roff fit01 fit02 >/dev/null 2>&1
r rstatus -o "testbed.inventory_nodes_path=$T/inv644.json" fit02 fit01
is "password 0644: exit" 1 "$rc"
is "password 0644: refused, named" "off: fit01
unknown: fit02 (password file $T/pass644: mode 0644 lets group or others in (chmod 600 it))" "$out"
lacks "password 0644: not printed" "$pass" "$out$err"
chmod 600 "$T/pass644"
r rstatus -o "testbed.inventory_nodes_path=$T/inv644.json" fit02
is "password 0600: accepted" "off: fit02" "$out"

# --- interoperability: rhubarb status = ipmipower --stat ------------------

# Some BMC nodes on, one with the other password, one unreachable.
ron fit02 fit08 >/dev/null 2>&1
ctl fault fit05 bmc-badpass >/dev/null
ctl fault fit11 bmc-unreachable >/dev/null
wait_until 200 sh -c "ipmipower -D LAN_2_0 -W opensesspriv -u admin -p '$pass' -h bmc05 --stat --session-timeout=2000 | grep -q 'password invalid'" ||
    ko "bmc-badpass did not take on fit05"
r rstatus --json fit02 fit05 fit08 fit11
echo "$out" | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    print("bmc" + n["node"][3:] + ": " + (n["result"] if n["ok"] else n["reason"]))
' | sort >"$T/ours"
ipmi bmc02,bmc05,bmc08,bmc11 --stat | sort >"$T/theirs"
is "interop: same lines as ipmipower --stat" "$(cat "$T/theirs")" "$(cat "$T/ours")"
is "interop: four BMCs compared" 4 "$(wc -l <"$T/ours")"
has "interop: covers on" "bmc02: on" "$(cat "$T/ours")"
has "interop: covers a bad password" "bmc05: password invalid" "$(cat "$T/ours")"
has "interop: covers an unreachable BMC" "bmc11: connection timeout" "$(cat "$T/ours")"
ctl fault fit05 clear >/dev/null
ctl fault fit11 clear >/dev/null

sim_test_finish
