#!/bin/sh
# test-simd.sh: rhubarb-simd and rhubarb-sim-ctl end to end, driven with
# standard clients (curl, socat, nft) in a private network + mount + pid
# namespace of its own, on a hand-written DIR/sim/nodes.conf: 6 nodes, 2
# PDUs, one node on two outlets of both. socat listeners on :22 and :23
# stand in for sshd and telnetd, so that the nft gating shows as "open" or
# "refused". Needs root. Ends with "N passed, M failed".
#
# simd runs from a copy of the build's sim-bin beside a fake bmc-ctl.sh that
# records its arguments, so that bmc-badpass is checked without a BMC.
set -u

if [ "${SIMD_TEST_INNER:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "test-simd.sh: needs root (namespaces, nft)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	BUILD=${RHUBARB_BUILD:-$(cd "$(dirname "$0")/../../build" && pwd)}
	for t in unshare nft curl socat ip; do
		command -v $t >/dev/null 2>&1 || {
			echo "test-simd.sh: $t not found" >&2
			echo "0 passed, 1 failed"
			exit 1
		}
	done
	T=$(mktemp -d /tmp/test-simd.XXXXXX) || exit 1
	trap 'rm -rf "$T"' EXIT
	trap 'exit 1' INT TERM
	HOME=$T XDG_STATE_HOME=$T SIMD_TEST_INNER=1 SIMD_TEST_DIR=$T \
	    SIMD_TEST_BUILD=$BUILD timeout 400 \
	    unshare --net --mount --pid --fork --mount-proc sh "$0"
	exit $?
fi

# --- inside the namespace (this shell is pid 1) ---
T=$SIMD_TEST_DIR
B=$SIMD_TEST_BUILD/sim-bin
BIN=$T/bin
SOCK=$T/sim/simd.sock
pass=0
fail=0
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export ASAN_OPTIONS="log_path=$T/asan:detect_leaks=1"
cd "$T" || exit 1

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}
nok() {
	fail=$((fail + 1))
	echo "FAIL - $*"
}
# expect DESC EXPECTED ACTUAL
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		nok "$1: expected [$2], got [$3]"
	fi
}
# check DESC CMD...: the command succeeds
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
finish() {
	if ls "$T"/asan.* >/dev/null 2>&1; then
		nok "sanitizer reports"
		cat "$T"/asan.* | head -40
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

ctl() { timeout 30 "$BIN/rhubarb-sim-ctl" -d "$T" "$@"; }
http() { timeout 30 curl -s --max-time "${2:-5}" "http://$1"; }
code() { timeout 30 curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
state() { ctl state "$1" | awk '{print $2}'; }
# open, refused, or what the client said
port() {
	out=$(timeout 5 socat -u "TCP:$1:$2,connect-timeout=2" - 2>&1)
	case $out in
	*ssh* | *telnet*) echo open ;;
	*refused*) echo refused ;;
	*) echo "other: $out" ;;
	esac
}
# wait_for SECONDS CMD...: poll until CMD succeeds
wait_for() {
	n=$(($1 * 10))
	shift
	i=0
	until "$@"; do
		[ $i -ge $n ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}
# is EXPECTED CMD...: the output of CMD is EXPECTED
is() {
	e=$1
	shift
	[ "$("$@")" = "$e" ]
}
# wait_state NODE STATE SECONDS
wait_state() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		[ "$(state "$1")" = "$2" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" in Z | X | '') return 1 ;; esac
}
# wait_gone PID SECONDS
wait_gone() {
	i=0
	while alive "$1"; do
		[ $i -ge $(($2 * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}
has_table() { nft list table inet rhubarb_sim >/dev/null 2>&1; }
in_set() { nft list set inet rhubarb_sim "$1" | grep -q "$2[ ,}]"; }

# --- the testbed ---
ip link set lo up
mkdir -p "$BIN" "$T/sim/log" "$T/sim/pids" "$T/pxelinux.cfg" || exit 1
cp "$B/rhubarb-simd" "$B/rhubarb-sim-ctl" "$BIN/" || exit 1
cat >"$BIN/bmc-ctl.sh" <<EOF
echo "\$*" >>"$T/bmc-ctl.log"
EOF
cat >"$T/sim/nodes.conf" <<'EOF'
# test-simd.sh: 6 nodes; fit02, fit05 with BMCs; fit03 on pdu1:1;
# fit06 on pdu1:3 and pdu2:3
boot_delay 0.3
node fit01 1 127.1.0.1 02:00:01:00:00:01 127.2.0.1 - -
node fit02 2 127.1.0.2 02:00:01:00:00:02 127.2.0.2 127.3.0.2 -
node fit03 3 127.1.0.3 02:00:01:00:00:03 127.2.0.3 - pdu1:1
node fit04 4 127.1.0.4 02:00:01:00:00:04 127.2.0.4 - -
node fit05 5 127.1.0.5 02:00:01:00:00:05 127.2.0.5 127.3.0.5 -
node fit06 6 127.1.0.6 02:00:01:00:00:06 127.2.0.6 - pdu1:3,pdu2:3
pdu pdu1 127.5.0.1 8
pdu pdu2 127.5.0.2 8
EOF
echo "fit05 ssh-refused # from the start" >"$T/sim/faults.initial"
{
	echo "127.0.0.1 localhost"
	for i in 1 2 3 4 5 6; do
		echo "127.1.0.$i fit0$i"
		echo "127.2.0.$i reboot0$i"
		echo "127.3.0.$i bmc0$i"
		echo "127.4.0.$i data0$i"
	done
	echo "127.5.0.1 pdu1"
	echo "127.5.0.2 pdu2"
} >"$T/hosts"
mount --bind "$T/hosts" /etc/hosts || exit 1

socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo ssh' 2>/dev/null &
socat TCP-LISTEN:23,fork,reuseaddr SYSTEM:'echo telnet' 2>/dev/null &
socat -u UDP-RECV:623,reuseaddr OPEN:"$T/udp.log",creat,append 2>/dev/null &

# --- start ---
"$BIN/rhubarb-simd" -d "$T"
expect "simd daemonizes once ready" 0 $?
PID=$(cat "$T/sim/pids/simd.pid" 2>/dev/null)
check "pid file names a live simd" alive "${PID:-0}"
check "socket exists" test -S "$SOCK"
check "nft table exists" has_table
check "every node starts with ssh refused" in_set ssh_down 127.1.0.6
check "every node starts with telnet refused" in_set telnet_down 127.1.0.1

# The idle timeout, measured in the background while the rest runs.
(
	t0=$(now_ms)
	sleep 40 | {
		timeout 45 socat - UNIX-CONNECT:"$SOCK" >/dev/null 2>&1
		echo $(($(now_ms) - t0)) >"$T/idle.ms"
	}
) &
IDLE=$!

# --- CMC and boot, fit01 ---
expect "status off at start" off "$(http reboot01/status)"
expect "ssh refused when off" refused "$(port 127.1.0.1 22)"
expect "telnet refused when off" refused "$(port 127.1.0.1 23)"
expect "/on" ok "$(http reboot01/on)"
expect "status on" on "$(http reboot01/status)"
expect "booting after on" booting "$(state fit01)"
check "installed after the boot delay" wait_state fit01 installed 3
expect "installed: ssh open" open "$(port 127.1.0.1 22)"
expect "installed: telnet refused" refused "$(port 127.1.0.1 23)"
expect "/info" "fit01 chassis=on state=installed" "$(http reboot01/info)"
expect "/on when on" ok "$(http reboot01/on)"
expect "/on when on changes nothing" installed "$(state fit01)"
ln -s /nonexistent "$T/pxelinux.cfg/01-02-00-01-00-00-01"
expect "/reset" ok "$(http reboot01/reset)"
expect "reset: ssh refused at once" refused "$(port 127.1.0.1 22)"
check "nextboot link (dangling): imaging" wait_state fit01 imaging 3
expect "imaging: telnet open" open "$(port 127.1.0.1 23)"
expect "imaging: ssh refused" refused "$(port 127.1.0.1 22)"
expect "/off" ok "$(http reboot01/off)"
expect "off: telnet refused at once" refused "$(port 127.1.0.1 23)"
expect "off: ssh refused" refused "$(port 127.1.0.1 22)"
expect "/reset when off" ok "$(http reboot01/reset)"
sleep 0.5
expect "/reset when off does nothing" off "$(state fit01)"
rm -f "$T/pxelinux.cfg/01-02-00-01-00-00-01"
expect "/usrpstatus" off "$(http reboot01/usrpstatus)"
expect "/usrpon" ok "$(http reboot01/usrpon)"
expect "/usrpstatus after usrpon" on "$(http reboot01/usrpstatus)"
expect "/usrpoff" ok "$(http reboot01/usrpoff)"
expect "unknown path: 404" 404 "$(code reboot01/bogus)"
expect "port 80 of a control address: 404" 404 "$(code fit01/status)"
expect "CMC by address" off "$(http 127.2.0.2/status)"

# --- control socket ---
expect "power get" "ok off" "$(ctl power fit04 get)"
expect "power on" ok "$(ctl power fit04 on)"
expect "state" "ok booting chassis=on ac=on" "$(ctl state fit04)"
expect "power get by CMC address" "ok on" "$(ctl power 127.2.0.4 get)"
expect "power get by data address" "ok on" "$(ctl power 127.4.0.4 get)"
expect "power cycle" ok "$(ctl power fit04 cycle)"
expect "cycle: off at once" "ok off" "$(ctl power fit04 get)"
check "cycle: on after 1 s" wait_for 3 is "ok on" ctl power fit04 get
expect "power off" ok "$(ctl power fit04 off)"
out=$(ctl list)
expect "list header" "ok 6" "$(echo "$out" | head -n 1)"
expect "list line" "fit05 off off on ssh-refused" "$(echo "$out" | grep '^fit05')"
expect "list: PDU node without AC" "fit06 off off off" "$(echo "$out" | grep '^fit06')"
expect "faults.initial applied" "ok ssh-refused" "$(ctl faults fit05)"

out=$(ctl bogus)
expect "unknown request: exit 1" 1 $?
expect "unknown request: error" "error unknown request bogus" "$out"
expect "unknown node" "error unknown node fit99" "$(ctl power fit99 get)"
expect "bad action" "error unknown power action dance" "$(ctl power fit01 dance)"
expect "missing word" "error usage: power NODE get|on|off|reset|cycle" "$(ctl power fit01)"
ctl -s "$T/nosuch.sock" list >/dev/null 2>"$T/err"
expect "no socket: exit 2" 2 $?
expect "no socket: one line on stderr" 1 "$(wc -l <"$T/err")"
ctl >/dev/null 2>&1
expect "no request: usage" 64 $?

# Garbage on one connection: each line gets its error, the last request
# is still served.
out=$({
	printf 'bogus\n'
	printf '\n'
	printf 'power fit01\n'
	printf '\001\002\377garbage\n'
	head -c 5000 /dev/zero | tr '\0' a
	printf '\n'
	printf 'state fit04\r\n'
	printf 'power fit04 get'
} | timeout 10 socat -t 5 - UNIX-CONNECT:"$SOCK")
expect "garbage: one error per bad line" 5 "$(echo "$out" | grep -c '^error')"
expect "garbage: too long line" 1 "$(echo "$out" | grep -c '^error line too long')"
expect "garbage: CRLF line served" 1 "$(echo "$out" | grep -c '^ok off chassis=off')"
expect "garbage: last line without newline served" "ok off" \
    "$(echo "$out" | grep -v '^\.$' | tail -n 1)"
expect "garbage: every reply ends with a dot" 7 "$(echo "$out" | grep -c '^\.$')"

# Many clients at once.
i=0
while [ $i -lt 40 ]; do
	(ctl list >"$T/many.$i" 2>&1 && echo ok >>"$T/many.ok") &
	i=$((i + 1))
done
wait_many() {
	j=0
	while [ "$(cat "$T/many.ok" 2>/dev/null | wc -l)" -lt 40 ]; do
		[ $j -ge 100 ] && return 1
		sleep 0.1
		j=$((j + 1))
	done
}
check "40 clients at once" wait_many
expect "their lists are whole" 40 "$(cat "$T"/many.[0-9]* | grep -c '^fit06 ')"

# --- outlets: fit06 on pdu1:3 and pdu2:3 ---
expect "outlet get" "ok 0" "$(ctl outlet pdu1 3 get)"
expect "outlet by address" "ok 0" "$(ctl outlet 127.5.0.2 3 get)"
expect "outlet on" ok "$(ctl outlet pdu1 3 on)"
expect "outlet status on" "ok 1" "$(ctl outlet pdu1 3 get)"
expect "node powered by its outlet" on "$(http reboot06/status)"
expect "AC and chassis on" "ok booting chassis=on ac=on" "$(ctl state fit06)"
expect "second outlet on" ok "$(ctl outlet pdu2 3 on)"
expect "first outlet off" ok "$(ctl outlet pdu1 3 off)"
expect "still on with one outlet on" "ok on" "$(ctl power fit06 get)"
expect "last outlet off" ok "$(ctl outlet pdu2 3 off)"
expect "off when all outlets are off" "ok off chassis=off ac=off" "$(ctl state fit06)"
ctl outlet pdu1 3 on >/dev/null
check "back up after outlet on" wait_state fit06 installed 3
expect "outlet reboot" ok "$(ctl outlet pdu1 3 reboot)"
expect "rebooting outlet: onWait" "ok 3" "$(ctl outlet pdu1 3 get)"
expect "rebooting outlet: node off" "ok off" "$(ctl power fit06 get)"
check "rebooted outlet: on after 2 s" wait_for 4 is "ok 1" ctl outlet pdu1 3 get
expect "rebooted outlet: node on" "ok on" "$(ctl power fit06 get)"
expect "outlet out of range" "error outlet 9 is too large (pdu1 has 1 to 8)" \
    "$(ctl outlet pdu1 9 get)"
expect "unknown PDU" "error unknown PDU pdu9" "$(ctl outlet pdu9 1 get)"
expect "outlet-stuck" ok "$(ctl fault fit06 outlet-stuck)"
expect "stuck outlet accepts off" ok "$(ctl outlet pdu1 3 off)"
expect "stuck outlet stays on" "ok 1" "$(ctl outlet pdu1 3 get)"
expect "stuck outlet: node stays on" "ok on" "$(ctl power fit06 get)"
expect "outlet-stuck on a node without outlets" "error fit01 has no PDU outlet" \
    "$(ctl fault fit01 outlet-stuck)"
expect "clear" ok "$(ctl fault fit06 clear)"
expect "cleared: outlet off works" ok "$(ctl outlet pdu1 3 off)"
expect "cleared: node off" "ok off" "$(ctl power fit06 get)"

# --- the ipmi_sim chassis hook, fit02 ---
expect "chassis get power" power:0 "$(ctl chassis fit02 get power)"
ctl chassis fit02 set power 1
expect "chassis set power 1: exit 0" 0 $?
expect "chassis on seen by the CMC" on "$(http reboot02/status)"
expect "chassis get power boot" "power:1
boot:none" "$(ctl chassis fit02 get power boot)"
check "chassis node boots" wait_state fit02 installed 3
ctl chassis fit02 set reset 1
expect "chassis reset: booting" booting "$(state fit02)"
ctl chassis fit02 set boot pxe identify "15 0"
expect "chassis set boot, identify: accepted" 0 $?
expect "chassis boot/identify change nothing" booting "$(state fit02)"
ctl chassis fit02 set shutdown 1
expect "chassis shutdown: CMC says off" off "$(http reboot02/status)"
ctl chassis fit02 set power 1 reset 1
expect "chassis several pairs" on "$(http reboot02/status)"
ctl chassis fit02 set power 0
expect "chassis set power 0" off "$(http reboot02/status)"
ctl chassis fit02 set bogus 1 2>/dev/null
check "chassis unknown parameter fails" test $? -ne 0
ctl chassis fit99 get power 2>/dev/null
expect "chassis unknown node: exit 1" 1 $?

# --- faults ---
expect "unknown fault" "error unknown fault melt" "$(ctl fault fit01 melt)"
expect "BMC fault on a node without BMC" "error fit01 has no BMC" \
    "$(ctl fault fit01 bmc-slow)"
ctl fault fit02 bmc-slow >/dev/null
t0=$(now_ms)
out=$(ctl chassis fit02 get power)
dt=$(($(now_ms) - t0))
expect "bmc-slow: still answers" power:0 "$out"
check "bmc-slow: answers after 3 s ($dt ms)" test $dt -ge 3000
ctl fault fit02 clear >/dev/null
t0=$(now_ms)
ctl chassis fit02 get power >/dev/null
dt=$(($(now_ms) - t0))
check "cleared: chassis hook fast ($dt ms)" test $dt -lt 2000

echo ping1 | socat -u - UDP-SENDTO:127.3.0.2:623
ctl fault fit02 bmc-unreachable >/dev/null
check "bmc-unreachable: BMC address in bmc_dead" in_set bmc_dead 127.3.0.2
echo ping2 | socat -u - UDP-SENDTO:127.3.0.2:623
ctl fault fit02 clear >/dev/null
check "cleared: bmc_dead empty" test -z "$(nft list set inet rhubarb_sim bmc_dead | grep elements)"
echo ping3 | socat -u - UDP-SENDTO:127.3.0.2:623
sleep 0.3
expect "bmc-unreachable drops udp 623" "ping1 ping3" "$(tr '\n' ' ' <"$T/udp.log" | sed 's/ $//')"

ctl fault fit02 bmc-badpass >/dev/null
wait_for 5 test -s "$T/bmc-ctl.log"
expect "bmc-badpass runs bmc-ctl.sh" "$T fit02 badpass" "$(cat "$T/bmc-ctl.log" 2>/dev/null)"
ctl fault fit02 bmc-badpass >/dev/null
ctl fault fit02 clear >/dev/null
wait_for 5 is 2 eval 'wc -l <"$T/bmc-ctl.log"'
expect "clear runs bmc-ctl.sh clear, once" "$T fit02 badpass
$T fit02 clear" "$(cat "$T/bmc-ctl.log" 2>/dev/null)"

ctl fault fit03 cmc-dead >/dev/null
check "cmc-dead: CMC address in cmc_dead" in_set cmc_dead 127.2.0.3
http reboot03/status 2 >/dev/null
expect "cmc-dead: curl times out" 28 $?
ctl fault fit03 clear >/dev/null
expect "cleared: CMC answers" off "$(http reboot03/status)"

ctl fault fit03 cmc-slow >/dev/null
(
	t0=$(now_ms)
	b=$(http reboot03/status 10)
	echo "$b $(($(now_ms) - t0))" >"$T/slow"
) &
SLOW=$!
sleep 0.5
t0=$(now_ms)
out=$(http reboot01/status)
dt=$(($(now_ms) - t0))
check "cmc-slow does not hold other CMCs ($dt ms)" test "$out" = off -a $dt -lt 1000
wait $SLOW
read -r body ms <"$T/slow"
expect "cmc-slow: answers" off "${body:-}"
check "cmc-slow: after 5 s (${ms:-?} ms)" test "${ms:-0}" -ge 5000
ctl fault fit03 clear >/dev/null

ctl fault fit04 no-boot >/dev/null
ctl power fit04 on >/dev/null
sleep 1.5
expect "no-boot: stays booting" booting "$(state fit04)"
ctl fault fit04 clear >/dev/null
ctl power fit04 reset >/dev/null
check "cleared, reset: boots" wait_state fit04 installed 3
ctl fault fit04 slow-boot >/dev/null
t0=$(now_ms)
ctl power fit04 reset >/dev/null
sleep 1.5
expect "slow-boot: still booting after 1.5 s" booting "$(state fit04)"
check "slow-boot: boots within 6 s" wait_state fit04 installed 6
dt=$(($(now_ms) - t0))
check "slow-boot: took x10 (${dt} ms)" test $dt -ge 2000
ctl fault fit04 clear >/dev/null
ctl power fit04 off >/dev/null

ctl power fit05 on >/dev/null
check "ssh-refused: installed" wait_state fit05 installed 3
expect "ssh-refused: ssh refused" refused "$(port 127.1.0.5 22)"
ctl fault fit05 clear >/dev/null
expect "cleared: ssh open" open "$(port 127.1.0.5 22)"
ctl fault fit05 telnet-refused >/dev/null
ln -s /nonexistent "$T/pxelinux.cfg/01-02-00-01-00-00-05"
ctl power fit05 reset >/dev/null
check "telnet-refused: imaging" wait_state fit05 imaging 3
expect "telnet-refused: telnet refused" refused "$(port 127.1.0.5 23)"
ctl fault fit05 clear >/dev/null
expect "cleared: telnet open" open "$(port 127.1.0.5 23)"
for f in frisbee-fail imagezip-fail ssh-auth-fail; do
	ctl fault fit05 $f >/dev/null
done
expect "tool faults are kept for the tools" "ok frisbee-fail imagezip-fail ssh-auth-fail" \
    "$(ctl faults fit05)"
ctl fault fit05 clear >/dev/null
expect "clear heals all" ok "$(ctl faults fit05)"

# --- nft out of step (someone else removed an element): rebuilt ---
nft delete element inet rhubarb_sim ssh_down '{ 127.1.0.4 }'
ctl power fit04 on >/dev/null
check "tampered set: node still boots" wait_state fit04 installed 3
check "tampered set: the failed batch is logged" wait_for 3 grep -q "rebuilding the table" "$T/sim/log/simd.log"
expect "tampered set: rebuilt, ssh open" open "$(port 127.1.0.4 22)"
ctl power fit04 off >/dev/null
expect "tampered set: later changes apply" refused "$(port 127.1.0.4 22)"

# --- a second simd, broken configurations ---
"$BIN/rhubarb-simd" -d "$T" 2>"$T/err"
expect "second simd refused" 1 $?
expect "second simd: one line" 1 "$(wc -l <"$T/err")"
check "the first keeps its table" has_table
expect "the first still answers" "ok off" "$(ctl power fit04 get)"
mkdir -p "$T/bad/sim/log" "$T/bad/sim/pids"
printf 'node fit01 1 127.1.0.1 02:00:zz 127.2.0.1 - -\n' >"$T/bad/sim/nodes.conf"
"$BIN/rhubarb-simd" -d "$T/bad" 2>"$T/err"
expect "bad nodes.conf: exit 1" 1 $?
expect "bad nodes.conf: where and what" \
    "rhubarb-simd: $T/bad/sim/nodes.conf:1: bad MAC address 02:00:zz" "$(cat "$T/err")"
printf 'node fit01 1 127.1.0.1 02:00:01:00:00:01 127.2.0.1 - pdu1:9\npdu pdu1 127.5.0.1 8\n' \
    >"$T/bad/sim/nodes.conf"
"$BIN/rhubarb-simd" -d "$T/bad" -f 2>"$T/err"
expect "bad outlet: exit 1" 1 $?
expect "bad outlet: message" \
    "rhubarb-simd: $T/bad/sim/nodes.conf: fit01: outlet 9 of pdu1 is too large" "$(cat "$T/err")"

# The idle client, started at the beginning, must be gone by now.
wait $IDLE
ms=$(cat "$T/idle.ms" 2>/dev/null || echo 0)
check "idle client closed after 30 s ($ms ms)" test "$ms" -ge 29000 -a "$ms" -lt 38000

# --- SIGTERM ---
kill "$PID"
check "SIGTERM: simd exits" wait_gone "$PID" 10
check "SIGTERM: no nft table" test -z "$(nft list tables | grep rhubarb_sim)"
check "SIGTERM: no socket" test ! -e "$SOCK"
check "SIGTERM: no pid file" test ! -e "$T/sim/pids/simd.pid"

# --- foreground, quit ---
"$BIN/rhubarb-simd" -d "$T" -f &
FPID=$!
i=0
until ctl list >/dev/null 2>&1; do
	[ $i -ge 100 ] && break
	sleep 0.1
	i=$((i + 1))
done
check "-f: answers" has_table
expect "quit" ok "$(ctl quit)"
wait $FPID
expect "quit: exit 0" 0 $?
check "quit: no nft table" test -z "$(nft list tables | grep rhubarb_sim)"
check "quit: no socket" test ! -e "$SOCK"

# --- 1000 nodes: memory and one coalesced boot ---
mkdir -p "$T/big/sim/log" "$T/big/sim/pids" "$T/big/pxelinux.cfg"
awk 'BEGIN {
	print "boot_delay 0.5"
	for (i = 1; i <= 1000; i++) {
		k = i - 1; a = int(k / 250); b = k % 250 + 1
		printf "node fit%02d %d 127.1.%d.%d 02:00:01:00:%02x:%02x 127.2.%d.%d 127.3.%d.%d -\n",
		    i, i, a, b, int(i / 256), i % 256, a, b, a, b
	}
}' >"$T/big/sim/nodes.conf"
t0=$(now_ms)
"$BIN/rhubarb-simd" -d "$T/big"
expect "1000 nodes: ready" 0 $?
dt=$(($(now_ms) - t0))
check "1000 nodes: ready within 5 s ($dt ms)" test $dt -lt 5000
BPID=$(cat "$T/big/sim/pids/simd.pid")
out=$(awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "power fit%02d on\n", i }' |
    timeout 30 socat -t 10 - UNIX-CONNECT:"$T/big/sim/simd.sock" | grep -c '^ok$')
expect "1000 nodes: all on, one connection" 1000 "$out"
wait_all() {
	j=0
	while [ "$("$BIN/rhubarb-sim-ctl" -d "$T/big" list | grep -c ' installed ')" -lt 1000 ]; do
		[ $j -ge 100 ] && return 1
		sleep 0.1
		j=$((j + 1))
	done
}
check "1000 nodes: all installed" wait_all
check "1000 nodes: ssh_down empty" test -z "$(nft list set inet rhubarb_sim ssh_down | grep elements)"
rss=$(awk '/^VmRSS/ {print $2}' /proc/"$BPID"/status)
echo "# 1000 nodes: simd VmRSS ${rss} kB (Asan builds inflate it)"
if grep -q __asan_init "$BIN/rhubarb-simd"; then asan=1; else asan=0; fi
case $asan in
0) check "1000 nodes: RSS under 50 MB (${rss} kB)" test "$rss" -lt 51200 ;;
*) check "1000 nodes: RSS under 150 MB with Asan (${rss} kB)" test "$rss" -lt 153600 ;;
esac
kill "$BPID"
check "1000 nodes: SIGTERM" wait_gone "$BPID" 10
check "1000 nodes: no nft table" test -z "$(nft list tables | grep rhubarb_sim)"

finish
