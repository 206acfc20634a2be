# rhubarb-sim as a whole: up, run, status, fault, down, with standard
# clients; and that down leaves no process, no mount, nothing running.
# Needs root. Bounded: every wait has a limit; down runs on any exit.
set -u
: "${RHUBARB_BUILD:?}"
SIM=$RHUBARB_BUILD/rhubarb-sim
T=$(mktemp -d)
D=$T/tb
cleanup() {
	"$SIM" down --dir "$D" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

passed=0
failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check WHAT CMD...: CMD must succeed
	what=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok; else ko "$what: $(head -c 400 "$T/out")"; fi
}
run() { timeout 30 "$SIM" run --dir "$D" -- "$@"; }

# Usage errors: exit 2, nothing started.
"$SIM" up --dir "$D" >/dev/null 2>&1; [ $? -eq 2 ] && ok || ko "up without --nodes"
"$SIM" up --nodes 0 --dir "$D" >/dev/null 2>&1; [ $? -eq 2 ] && ok || ko "--nodes 0"
"$SIM" up --nodes 3 --power ups --dir "$D" >/dev/null 2>&1; [ $? -eq 2 ] && ok || ko "--power ups"
printf 'fit01 no-such-fault\n' >"$T/badfaults"
"$SIM" up --nodes 3 --faults "$T/badfaults" --dir "$D" 2>"$T/err" >/dev/null; [ $? -eq 2 ] && ok || ko "bad faults file"
grep -q "badfaults:1: unknown fault 'no-such-fault'" "$T/err" && ok || ko "bad faults message: $(cat "$T/err")"
"$SIM" frob --dir "$D" >/dev/null 2>&1; [ $? -eq 2 ] && ok || ko "unknown command"
"$SIM" status --dir "$D" >/dev/null 2>&1; [ $? -eq 3 ] && ok || ko "status of a testbed that is down"

# Up, with one fault from a file.
printf '# faults at start\nfit04 cmc-dead\n' >"$T/faults"
t0=$(date +%s)
check "up" timeout 120 "$SIM" up --nodes 12 --boot-delay 0.5 --faults "$T/faults" --dir "$D"
echo "up: 12 nodes in $(($(date +%s) - t0)) s"
"$SIM" up --nodes 12 --dir "$D" >/dev/null 2>&1; [ $? -eq 1 ] && ok || ko "second up must fail"
check "status" "$SIM" status --dir "$D"
grep -q '^up' "$T/out" && ok || ko "status says up"

# The files a user needs.
for f in rhubarb.conf inventory-nodes.json groups images/sample.ndz images/default.ndz ssh/id_ed25519; do
	[ -e "$D/$f" ] && ok || ko "missing $D/$f"
done
[ -d "$D/pxelinux.cfg" ] && ok || ko "no pxelinux dir"
check "rnodes on the written config" run rnodes -a
[ "$(cat "$T/out")" = "fit01 fit02 fit03 fit04 fit05 fit06 fit07 fit08 fit09 fit10 fit11 fit12" ] && ok || ko "rnodes -a: $(cat "$T/out")"
check "inventory" run rhubarb inventory --json
check "names resolve inside" run getent hosts reboot07
grep -q '127.2.0.7' "$T/out" && ok || ko "reboot07 -> $(cat "$T/out")"
getent hosts reboot07 >/dev/null 2>&1 && ko "reboot07 resolves outside the testbed" || ok

# The CMC, with curl; the fault from the file is in force.
check "curl status" run curl -sS -m 5 http://reboot01/status
[ "$(cat "$T/out")" = off ] && ok || ko "status of a new node: $(cat "$T/out")"
check "curl on" run curl -sS -m 5 http://reboot01/on
run curl -sS -m 2 http://reboot04/status >/dev/null 2>&1 && ko "cmc-dead answered" || ok
check "fault clear" "$SIM" fault --dir "$D" fit04 clear
check "curl after clear" run curl -sS -m 5 http://reboot04/status
"$SIM" fault --dir "$D" fit04 frobnicate >/dev/null 2>&1; [ $? -eq 2 ] && ok || ko "unknown fault kind"

# The node boots its installed system: ssh answers, with its own stamp.
i=0
until run ssh -q -i "$D/ssh/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3 root@fit01 hostname >"$T/out" 2>&1; do
	i=$((i + 1))
	[ $i -lt 20 ] || break
	sleep 0.5
done
[ "$(cat "$T/out")" = fit01 ] && ok || ko "ssh to fit01: $(cat "$T/out")"

# A command run inside sees the testbed's environment.
check "run env" run sh -c 'echo "$RHUBARB_SIM_DIR"'
[ "$(cat "$T/out")" = "$D" ] && ok || ko "RHUBARB_SIM_DIR: $(cat "$T/out")"

# Down: no process of ours, no mount, nothing left running.
ipid=$(cat "$D/sim/pids/init.hostpid")
check "down" timeout 60 "$SIM" down --dir "$D"
kill -0 "$ipid" 2>/dev/null && ko "init $ipid still alive" || ok
left=$(for p in /proc/[0-9]*; do
	tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -F "$D" >/dev/null && echo "${p#/proc/}"
done)
[ -z "$left" ] && ok || ko "processes left: $left"
grep -F "$D" /proc/mounts >/dev/null && ko "mounts left" || ok
[ ! -e "$D/sim/simd.sock" ] && ok || ko "socket left"
"$SIM" status --dir "$D" >/dev/null 2>&1; [ $? -eq 3 ] && ok || ko "status after down"
check "down twice is fine" "$SIM" down --dir "$D"

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
