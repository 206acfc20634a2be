#!/bin/sh
# rload end to end on the simulated testbed (12 nodes, CMC, BMC and PDU
# power): a load of every node checked by the bytes on each node's disk
# and its stamp; usage errors (exit 2, nothing touched); each fault
# (dead CMC, a node that never boots, frisbee failing half way) with its
# own outcome at its own deadline while the others load, and the final
# reset done whether frisbee worked or not; a save loaded back on
# another node; SIGINT in each phase leaves no link, no frisbeed and the
# nodes reset; a SIGKILL's links are recovered by the next command; two
# concurrent loads get different multicast groups. Needs root. Ends with
# "N passed, M failed".
set -u
PATH=$PATH:/usr/sbin:/sbin

. "$(dirname "$0")/testlib.sh"

if [ "${1:-}" != --inside ]; then
	sim_after_up() {
		cat >>"$D/rhubarb.conf" <<-EOF

		[power]
		ipmi_timeout = 4
		pdu_timeout = 5
		cmc_settle = 1
		ipmi_settle = 1
		pdu_settle = 1

		[networking]
		telnet_backoff = 0.5
		EOF
	}
	sim_test_outside test-load.sh 840 --nodes 12 --boot-delay 1 \
	    --image-mb 2
fi

# --- inside the testbed's namespace -------------------------------------

sim_test_inside "$2" "$3"
IMG=$D/images/sample.ndz

# Processes running the frisbeed stand-in (read from /proc, killed never).
frisbeeds() {
	n=0
	for c in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' 2>/dev/null <"$c" | grep -q "^$SIM_BIN/frisbeed " &&
		    n=$((n + 1))
	done
	echo $n
}
# disk_is NODE: the node's disk holds the sample image's payload.
tar -xOf "$IMG" ./var/lib/sample/payload >"$T/payload"
disk_is() {
	cmp -s "$T/payload" "$S/nodes/$1/root/var/lib/sample/payload"
}
wipe() { # wipe NODES...: a disk without the payload, and a known stamp
	for n in "$@"; do
		rm -f "$S/nodes/$n/root/var/lib/sample/payload"
		echo "wiped - node $n" >"$S/nodes/$n/root/etc/rhubarbe-image"
	done
}
resets() { grep -c "$1: .* -> booting" "$S/log/simd.log"; }
all12="fit01 fit02 fit03 fit04 fit05 fit06 fit07 fit08 fit09 fit10 fit11 fit12"

# --- bad input: exit 2, nothing touched ---------------------------------
r rload -i nosuchimage 1-2
is "unknown image rc" 2 "$rc"
has "unknown image message" "nosuchimage" "$err"
r rload -i sample 1-2 fit99
is "unknown node rc" 2 "$rc"
r rload -i sample -b 0 1
is "bad bandwidth rc" 2 "$rc"
r rload -i sample -o networking.local_control_ip= 1
is "no local IP rc" 2 "$rc"
has "no local IP message" "local_control_ip" "$err"
r rload -i sample -o frisbee.server=/nonexistent/frisbeed 1
is "no frisbeed rc" 1 "$rc"
has "no frisbeed message" "/nonexistent/frisbeed" "$err"
is "nothing touched: links" 0 "$(links)"
is "nothing touched: frisbeed" 0 "$(frisbeeds)"
r rload --help
is "--help rc" 0 "$rc"

# --- a load of the 12 nodes ---------------------------------------------
wipe $all12
b3=$(resets fit03)
r rload -i sample 1-12
is "load 12 rc" 0 "$rc"
has "load 12 summary" "12 ok" "$out"
bad=""
for n in $all12; do
	disk_is $n || bad="$bad $n"
	grep -q "image sample" "$S/nodes/$n/root/etc/rhubarbe-image" ||
	    bad="$bad $n(stamp)"
done
is "every disk holds the image" "" "$bad"
is "no link left" 0 "$(links)"
is "no frisbeed left" 0 "$(frisbeeds)"
is "no journal left" "" "$(ls "$D/state/nextboot" 2>/dev/null)"
has "the load is audited" '"action":"load"' "$(tail -n 1 "$D/state/audit.jsonl")"
has "audit: outcomes" '"ok":"fit[01-12]"' "$(tail -n 1 "$D/state/audit.jsonl")"
has "every node's raw frisbee output is in the log" "fit12: raw: Wrote" \
    "$(grep -h "raw: Wrote" "$D/state/rhubarb.log")"
# Boot, then the final reset: two boots at least.
is "fit03 booted twice" 1 "$([ $(($(resets fit03) - b3)) -ge 2 ] && echo 1)"
wait_until 300 sh -c "[ \"\$('$SIM_BIN/rhubarb-sim-ctl' -d '$D' state fit03)\" = installed ]"
is "fit03 boots from disk after" installed "$(state fit03)"

# --- --wait: the command ends when the nodes answer ssh -----------------
cat >>"$D/rhubarb.conf" <<EOF

[networking]
ssh_key = $D/ssh/id_ed25519
ssh_known_hosts = $T/known_hosts
ssh_backoff = 0.5
EOF
wipe fit01 fit02
r rload -i sample --wait -v 1-2
is "--wait rc" 0 "$rc"
has "--wait waited for ssh" "step ssh-wait" "$out"
is "--wait: fit02 is up" installed "$(state fit02)"
is "--wait: fit02 loaded" 1 "$(disk_is fit02 && echo 1)"
# ssh refused after the load: that node's own outcome, at its deadline.
ctl fault fit02 ssh-refused >/dev/null
r rload -i sample --wait -o nodes.boot_timeout=10 1-2
is "--wait, ssh refused: rc" 1 "$rc"
has "--wait, ssh refused: fit02" "ssh-timeout" "$out"
has "--wait, ssh refused: fit01 fine" "1 ok" "$out"
ctl fault fit02 clear >/dev/null

# --- who may load: the reservation gate ---------------------------------
r rload -i sample -o accounts.privileged=nobody 1
is "no gate, not privileged: rc" 1 "$rc"
has "refusal says why" "access denied" "$err"
is "refused: no link" 0 "$(links)"
printf '#!/bin/sh\necho "$@" >%s/gate.args\nexit 0\n' "$T" >"$T/gate"
chmod +x "$T/gate"
r rload -i sample -o accounts.privileged=nobody -o "accounts.gate=$T/gate" 3
is "gate grants: rc" 0 "$rc"
has "gate called with the login and nodes" "root fit03" "$(cat "$T/gate.args")"

# --- save then load: the round trip -------------------------------------
echo "round trip $$" >"$S/nodes/fit02/root/root/marker"
r rsave -o roundtrip fit02
is "round trip: save rc" 0 "$rc"
saved=$(ls "$T"/saving__fit02__*__roundtrip.ndz 2>/dev/null | head -n 1)
is "round trip: saved under its final name" 1 "$([ -f "$saved" ] && echo 1)"
rm -f "$S/nodes/fit05/root/root/marker"
r rload -i "$saved" fit05
is "round trip: load rc" 0 "$rc"
is "round trip: fit05 holds fit02's disk" "round trip $$" \
    "$(cat "$S/nodes/fit05/root/root/marker" 2>/dev/null)"
has "round trip: fit05's stamp names the saved image" "image roundtrip" \
    "$(cat "$S/nodes/fit05/root/etc/rhubarbe-image")"

# --- faults: each node its outcome, the others load ---------------------
wipe fit04 fit05 fit06 fit07
ctl fault fit04 cmc-dead >/dev/null
ctl fault fit05 no-boot >/dev/null
ctl fault fit06 frisbee-fail >/dev/null
b6=$(resets fit06)
start=$(date +%s)
r rload -i sample -t 200 -o nodes.boot_timeout=15 4-7
el=$(($(date +%s) - start))
is "faults rc" 1 "$rc"
has "fit04 dead CMC" "power-" "$out"
has "fit05 never boots" "telnet-timeout" "$out"
has "fit06 frisbee fails" "frisbee-failed" "$out"
has "fit07 loads" "1 ok" "$out"
is "fit07 disk" 1 "$(disk_is fit07 && echo 1)"
is "fit06 reset after its failure" 1 \
    "$([ $(($(resets fit06) - b6)) -ge 2 ] && echo 1)"
is "faults end at the nodes' deadlines, not -t" 1 \
    "$([ "$el" -lt 120 ] && echo 1)"
is "faults: no link left" 0 "$(links)"
for n in fit04 fit05 fit06; do ctl fault $n clear >/dev/null; done

# --- SIGINT in each phase -----------------------------------------------
# interrupt PATTERN: start a load of fit08-fit09, wait until its log says
# PATTERN, send SIGINT, and check what it left.
interrupt() {
	: >"$T/bg.out"
	rload -i sample -v 8-9 >"$T/bg.out" 2>&1 &
	pid=$!
	wait_until 600 grep -q "$1" "$T/bg.out" || ko "phase '$1' not seen"
	kill -INT $pid
	n=0
	while kill -0 $pid 2>/dev/null && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	wait $pid
	irc=$?
	is "SIGINT at '$1': rc" 1 "$irc"
	has "SIGINT at '$1': cancelled" "cancelled" "$(cat "$T/bg.out")"
	is "SIGINT at '$1': no link" 0 "$(links)"
	is "SIGINT at '$1': no frisbeed" 0 "$(frisbeeds)"
}
interrupt "step power"
interrupt "step telnet-wait"
b8=$(resets fit08)
interrupt "joined"
# The abort reset sends a node in the imaging system back to its disk.
is "interrupted frisbee: fit08 reset" 1 \
    "$([ "$(resets fit08)" -gt "$b8" ] && echo 1)"

# --- SIGKILL: the next command recovers the links and stops frisbeed ---
: >"$T/bg.out"
rload -i sample -v 10-11 >"$T/bg.out" 2>&1 &
pid=$!
# While the boot step runs, the links are there (the telnet-wait may not
# last long enough to be caught on a fast machine).
wait_until 600 grep -q "step power" "$T/bg.out" ||
    ko "SIGKILL: the boot step not seen"
kill -KILL $pid
wait $pid 2>/dev/null
is "SIGKILL leaves its links" 1 "$([ "$(links)" -ge 1 ] && echo 1)"
r rnodes fit01
has "recovered by the next command" "recovered" "$err"
is "links recovered" 0 "$(links)"
has "its frisbeed stopped by the next command" "stopped 1 process" "$err"
k=0
while [ "$(frisbeeds)" != 0 ] && [ $k -lt 50 ]; do
	sleep 0.1
	k=$((k + 1))
done
is "no frisbeed left after recovery" 0 "$(frisbeeds)"

# --- two loads at once: two multicast groups ----------------------------
rload -i sample 1-2 >"$T/a.out" 2>&1 &
pa=$!
wait_until 100 grep -q "frisbeed 234" "$T/a.out"
rload -i sample 3 >"$T/b.out" 2>&1
rcb=$?
wait $pa
rca=$?
is "concurrent loads rc" "0 0" "$rca $rcb"
ga=$(grep -o "frisbeed 234[.0-9]*:[0-9]*" "$T/a.out" | head -n 1)
gb=$(grep -o "frisbeed 234[.0-9]*:[0-9]*" "$T/b.out" | head -n 1)
is "two groups" 1 "$([ -n "$ga" ] && [ -n "$gb" ] && [ "$ga" != "$gb" ] &&
    echo 1)"

sim_test_finish
