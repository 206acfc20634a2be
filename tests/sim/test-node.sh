#!/bin/sh
# test-node.sh: the node side of rhubarb-sim (DESIGN.md, "Node sessions"
# and "frisbee and frisbeed") driven with standard clients: curl on the
# CMC, ssh, busybox telnet, socat. A node powered on without a
# nextboot link answers ssh with its name and stamp and refuses telnet;
# with the link it answers telnet, where frisbee loads an image served by
# frisbeed and imagezip saves the disk; the node faults (frisbee-fail,
# imagezip-fail, ssh-refused, ssh-auth-fail, telnet-refused) do what they
# say. Needs root; everything runs in the testbed's namespaces, which
# "rhubarb-sim down" (in a trap) removes.
#
# The test brings a testbed up, then runs itself inside it
# ("rhubarb-sim run ... -- sh test-node.sh --inside ..."), where the node
# names resolve and the ports answer.
set -u

prog=test-node.sh
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}
not_ok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}
# check DESCRIPTION COMMAND...: one assertion.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
summary() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# --- inside the testbed ------------------------------------------------

if [ "${1:-}" = --inside ]; then
	D=$2
	B=$3
	W=$4
	SB=$B/sim-bin
	ctl() { timeout 10 "$SB/rhubarb-sim-ctl" -d "$D" "$@" >/dev/null; }
	SSHOPTS="-i $D/ssh/id_ed25519 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o KexAlgorithms=curve25519-sha256 -o ConnectTimeout=5 -o BatchMode=yes -o LogLevel=ERROR"

	# nssh NODE COMMAND: ssh as rhubarb does; output and errors in $W/ssh.out.
	nssh() {
		# shellcheck disable=SC2086
		timeout 30 ssh $SSHOPTS "root@$1" "$2" >"$W/ssh.out" 2>&1
		r=$?
		cat "$W/ssh.out" >>"$W/sessions.log"
		return $r
	}
	# cmc I VERB: the CMC card of node I.
	cmc() { timeout 10 curl -s -m 5 "http://reboot$(printf %02d "$1")/$2"; }
	link() { echo "$D/pxelinux.cfg/01-02-00-01-00-00-$(printf %02x "$1")"; }
	# wait_state NN STATE: until the CMC's /info says so (15 s at most).
	wait_state() {
		i=0
		while [ $i -lt 150 ]; do
			cmc "$1" info | grep -q "state=$2" && return 0
			sleep 0.1
			i=$((i + 1))
		done
		return 1
	}
	# boot NN imaging|installed: power on (or reset) with or without the
	# nextboot link, and wait for that state.
	boot() {
		if [ "$2" = imaging ]; then
			ln -sfn pxefrisbee "$(link "$1")"
		else
			rm -f "$(link "$1")"
		fi
		if [ "$(cmc "$1" status)" = on ]; then
			cmc "$1" reset >/dev/null
		else
			cmc "$1" on >/dev/null
		fi
		# Leave "installed"/"imaging" first: a reset goes through booting.
		sleep 0.1
		wait_state "$1" "$2"
	}
	# tn HOST COMMAND...: run commands over telnet as rhubarb does (all
	# at once, then "echo _TELNET_STATUS=$?" and "exit"); the session's
	# output, without CRs, in $W/tn.out; returns when the status line came
	# (30 s at most).
	tn() {
		h=$1
		shift
		rm -f "$W/tn.in"
		: >"$W/tn.raw"
		mkfifo "$W/tn.in"
		timeout 60 busybox telnet "$h" 23 >"$W/tn.raw" 2>&1 <"$W/tn.in" &
		tp=$!
		exec 3>"$W/tn.in"
		for c in "$@"; do printf '%s\n' "$c" >&3; done
		printf '%s\n' 'echo _TELNET_STATUS=$?' exit >&3
		i=0
		while [ $i -lt 300 ]; do
			tr -d '\r' <"$W/tn.raw" >"$W/tn.out"
			grep -q '^_TELNET_STATUS=' "$W/tn.out" && break
			kill -0 $tp 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		sleep 0.2
		exec 3>&-
		wait $tp
		tr -d '\r' <"$W/tn.raw" >"$W/tn.out"
		cat "$W/tn.out" >>"$W/sessions.log"
		rm -f "$W/tn.in"
	}
	tn_status() { sed -n 's/^_TELNET_STATUS=\([0-9]*\)$/\1/p' "$W/tn.out" | tail -1; }
	# refused HOST PORT: the connection is refused (not timed out).
	refused() {
		! timeout 10 socat -u /dev/null "TCP:$1:$2,connect-timeout=5" 2>"$W/refused.out" &&
		    grep -q "Connection refused" "$W/refused.out"
	}
	has() { grep -q -e "$1" "$2"; }
	lacks() { ! grep -q -e "$1" "$2"; }

	image=$D/images/sample.ndz
	stamp=$(tar -xOf "$image" ./etc/rhubarbe-image)

	# 1. installed: ssh, no telnet.
	check "fit01 boots its installed system" boot 1 installed
	nssh fit01 'hostname; cat /etc/rhubarbe-image'
	check "ssh on fit01 runs there" has '^fit01$' "$W/ssh.out"
	check "ssh on fit01 shows its disk's stamp" has '^initial - node fit01 ' "$W/ssh.out"
	check "telnet refused on installed fit01" refused fit01 23
	nssh fit01 'echo $RHUBARB_SIM_NODE; ls $HOME/..; sh -c "exit 7"'
	check "ssh gives the command's status" test $? -eq 7
	check "ssh session: node's root partition" has '^etc$' "$W/ssh.out"

	# 2. imaging: telnet, no ssh.
	check "fit01 boots the imaging system with a nextboot link" boot 1 imaging
	tn fit01 'hostname' 'cat /etc/rhubarbe-image'
	check "telnet on fit01 gives its prompt" has '^fit01# ' "$W/tn.out"
	check "telnet on fit01 runs there" has '^fit01$' "$W/tn.out"
	check "telnet status line" test "$(tn_status)" = 0
	check "ssh refused on imaging fit01" refused fit01 22

	# 3. frisbeed: one per group and port.
	"$SB/frisbeed" -i 127.0.0.1 -W 524288000 "$image" -K 3 -m 234.5.6.1 -p 10001 \
	    >"$W/frisbeed.out" 2>&1 &
	fd=$!
	i=0
	while [ ! -S "$D/sim/frisbeed/234.5.6.1:10001.sock" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "frisbeed listens for the nodes" test -S "$D/sim/frisbeed/234.5.6.1:10001.sock"
	start=$(date +%s)
	timeout 10 "$SB/frisbeed" -i 127.0.0.1 -W 524288000 "$image" -m 234.5.6.1 -p 10001 \
	    >"$W/frisbeed2.out" 2>&1
	rc=$?
	check "second frisbeed on 234.5.6.1:10001 fails (EADDRINUSE)" test $rc -eq 98
	check "second frisbeed fails at once" test $(($(date +%s) - start)) -le 2
	check "second frisbeed says why" has 'Could not bind to port 10001!' "$W/frisbeed2.out"
	timeout 10 "$SB/frisbeed" -Z -m 234.5.6.2 -p 10002 "$image" >"$W/frisbeed3.out" 2>&1
	check "frisbeed rejects an unknown option" test $? -eq 1
	timeout 10 "$SB/frisbeed" -m 234.5.6.3 -p 10003 "$D/images/none.ndz" >"$W/frisbeed4.out" 2>&1
	check "frisbeed: unreadable image" test $? -eq 1
	check "frisbeed: unreadable image says so" has 'Cannot read' "$W/frisbeed4.out"

	# 4. frisbee over telnet, as rhubarb runs it.
	tn fit01 'frisbee -i 127.1.0.1 -m 234.5.6.1 -p 10001 /dev/sda'
	check "frisbee: status 0" test "$(tn_status)" = 0
	check "frisbee: joined the team" has '^Joined the team after [0-9]* sec\. ID is [0-9]*\. File is [0-9]* chunks' "$W/tn.out"
	check "frisbee: progress line (66 dots, seconds, chunks left)" \
	    grep -Eq '^[.sz]{60,75} +[0-9]+ +[0-9]+$' "$W/tn.out"
	check "frisbee: Wrote N bytes (N actual)" has "^Wrote $(wc -c <"$image") bytes ([0-9]* actual)" "$W/tn.out"
	chunks=$(sed -n 's/.*File is \([0-9]*\) chunks.*/\1/p' "$W/tn.out")
	check "frisbee: 1 MiB chunks" test "$chunks" -eq $((($(wc -c <"$image") + 1048575) / 1048576))
	check "frisbee: no temporary root left" test -z "$(find "$D/sim/nodes/fit01" -maxdepth 1 -name '.frisbee-*')"
	check "fit01 boots the loaded image" boot 1 installed
	nssh fit01 'cat /etc/rhubarbe-image; ls /etc/os-release "$RHUBARB_SIM_DIR/sim/nodes/fit01/root/var/lib/sample/payload"'
	check "the loaded image's stamp shows over ssh" has "^$stamp\$" "$W/ssh.out"
	check "the loaded image's files are on the disk" has 'payload$' "$W/ssh.out"

	# 5. no server: frisbee gives up.
	check "fit04 boots the imaging system" boot 4 imaging
	tn fit04 'frisbee -T 2 -i 127.1.0.4 -m 234.5.6.9 -p 10009 /dev/sda'
	check "frisbee without a server: status 1" test "$(tn_status)" = 1
	check "frisbee without a server: says so" has 'No messages from server after 2 seconds' "$W/tn.out"
	check "frisbee without a server: disk untouched" has '^initial - node fit04 ' "$D/sim/nodes/fit04/root/etc/rhubarbe-image"

	# 6. frisbee-fail: half a disk.
	ctl fault fit02 frisbee-fail
	check "fit02 boots the imaging system" boot 2 imaging
	tn fit02 'frisbee -i 127.1.0.2 -m 234.5.6.1 -p 10001 /dev/sda'
	check "frisbee-fail: status 1" test "$(tn_status)" = 1
	check "frisbee-fail: Short write" has 'Short write' "$W/tn.out"
	check "frisbee-fail: no Wrote line" lacks '^Wrote ' "$W/tn.out"
	used=$(du -sb "$D/sim/nodes/fit02/root" | cut -f1)
	check "frisbee-fail: half the image written" test "$used" -gt $(($(wc -c <"$image") / 4)) -a "$used" -lt $(($(wc -c <"$image") * 3 / 4))
	check "frisbee-fail: the old disk is gone" lacks '^initial - node fit02 ' "$D/sim/nodes/fit02/root/etc/rhubarbe-image"
	ctl fault fit02 clear
	kill "$fd"
	wait "$fd"
	check "frisbeed: SIGTERM ends it with status 0" test $? -eq 0
	check "frisbeed: its socket is removed" test ! -e "$D/sim/frisbeed/234.5.6.1:10001.sock"
	check "frisbeed: logs joins" has 'joins (v1)' "$D/sim/log/frisbeed-234.5.6.1:10001.log"

	# 7. imagezip over telnet into nc, as rhubarb's save runs it. The
	# collector is socat: busybox nc -l would hang up at the end of its
	# stdin.
	check "fit01 boots the imaging system again" boot 1 imaging
	rm -f "$W/saved.ndz"
	timeout 60 socat -u TCP-LISTEN:10123,bind=127.0.0.1,reuseaddr \
	    "OPEN:$W/saved.ndz,creat,trunc" &
	np=$!
	sleep 0.3
	tn fit01 '[ -d /mnt ] || mkdir /mnt; mount /dev/sda1 /mnt && { echo "2026-01-01@00:00 - node fit01  - image saved - by test-node" >> /mnt/etc/rhubarbe-image ; umount /mnt; } ;' \
	    'grep " /mnt " /proc/self/mountinfo | grep -q nodes/fit01/root && echo STILL-MOUNTED' \
	    'set -o pipefail' 'imagezip -o -z1 /dev/sda - | nc 127.0.0.1 10123'
	wait $np
	check "imagezip | nc: status 0" test "$(tn_status)" = 0
	check "imagezip: the image lists the node's files" sh -c "tar -tf '$W/saved.ndz' | grep -q '^./var/lib/sample/payload\$'"
	tar -xOf "$W/saved.ndz" ./etc/rhubarbe-image >"$W/saved.stamp" 2>/dev/null
	check "imagezip: the stamp written through mount is in it" has 'by test-node$' "$W/saved.stamp"
	check "umount undoes the mount" lacks '^STILL-MOUNTED$' "$W/tn.out"
	check "a session's mounts stay in the session" test -z "$(grep nodes/fit01/root /proc/self/mountinfo)"
	tn fit01 'mount /dev/sdb1 /mnt'
	check "mount of another partition: exit 32" test "$(tn_status)" = 32
	check "mount of another partition: says so" has 'special device /dev/sdb1 does not exist' "$W/tn.out"

	# 8. imagezip-fail.
	ctl fault fit01 imagezip-fail
	rm -f "$W/saved2.ndz"
	timeout 60 socat -u TCP-LISTEN:10124,bind=127.0.0.1,reuseaddr \
	    "OPEN:$W/saved2.ndz,creat,trunc" &
	np=$!
	sleep 0.3
	tn fit01 'set -o pipefail' 'imagezip -o -z1 /dev/sda - | nc 127.0.0.1 10124'
	wait $np
	check "imagezip-fail: status 1 through the pipe" test "$(tn_status)" = 1
	full=$(wc -c <"$W/saved.ndz")
	part=$(wc -c <"$W/saved2.ndz")
	check "imagezip-fail: stops half way" test "$part" -gt 0 -a "$part" -lt "$full"
	ctl fault fit01 clear

	# 9. ssh faults on an installed node.
	check "fit03 boots its installed system" boot 3 installed
	nssh fit03 hostname
	check "ssh on fit03 works" has '^fit03$' "$W/ssh.out"
	ctl fault fit03 ssh-auth-fail
	nssh fit03 hostname
	check "ssh-auth-fail: key refused" has 'Permission denied (publickey)' "$W/ssh.out"
	ctl fault fit03 clear
	nssh fit03 hostname
	check "ssh-auth-fail cleared: ssh works" has '^fit03$' "$W/ssh.out"
	ctl fault fit03 ssh-refused
	check "ssh-refused: connection refused" refused fit03 22
	nssh fit03 hostname
	check "ssh-refused: ssh fails" lacks '^fit03$' "$W/ssh.out"
	ctl fault fit03 clear

	# 10. telnet-refused on an imaging node.
	tn fit04 hostname
	check "telnet on fit04 works" has '^fit04$' "$W/tn.out"
	ctl fault fit04 telnet-refused
	check "telnet-refused: connection refused" refused fit04 23
	ctl fault fit04 clear

	# 11. a connection to no node.
	tn 127.0.0.1 hostname
	check "telnet to a non-node address is refused cleanly" has 'no node has address 127.0.0.1' "$W/tn.out"
	nssh 127.0.0.1 hostname
	check "ssh to a non-node address: key refused" has 'Permission denied (publickey)' "$W/ssh.out"

	# Under an Asan build, the sessions, sshd's log (the key command) and
	# frisbeed's output would show any sanitizer report.
	check "no sanitizer report" sh -c "! grep -rqs -e Sanitizer -e 'runtime error' '$W' '$D/sim/log'"

	summary
	exit $?
fi

# --- outside: bring the testbed up, run the above in it, take it down ---

B=${RHUBARB_BUILD:-}
if [ -z "$B" ] || [ ! -x "$B/rhubarb-sim" ]; then
	echo "$prog: RHUBARB_BUILD must name a build tree with rhubarb-sim" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "$prog: needs root (namespaces, nftables)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
for c in curl ssh busybox socat tar timeout; do
	command -v $c >/dev/null || { echo "$prog: $c not found" >&2; echo "0 passed, 1 failed"; exit 1; }
done
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

T=$(mktemp -d)
cleanup() {
	timeout 30 "$B/rhubarb-sim" down --dir "$T/tb" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
export HOME="$T/home" XDG_STATE_HOME="$T/state"
mkdir -p "$HOME" "$XDG_STATE_HOME" "$T/work"
cd "$T" || exit 1

# 66 MiB: the image is more than one line of progress dots.
if ! timeout 120 "$B/rhubarb-sim" up --nodes 4 --dir "$T/tb" --power cmc \
    --boot-delay 0.2 --image-mb 66 >"$T/up.out" 2>&1; then
	cat "$T/up.out" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
timeout 400 "$B/rhubarb-sim" run --dir "$T/tb" -- sh "$self" --inside "$T/tb" "$B" "$T/work"
rc=$?
# The testbed must go away entirely.
timeout 30 "$B/rhubarb-sim" down --dir "$T/tb" >/dev/null 2>&1
if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
	echo "not ok - the test inside the testbed ended with status $rc"
	echo "0 passed, 1 failed"
	exit 1
fi
exit $rc
