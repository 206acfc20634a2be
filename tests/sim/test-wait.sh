#!/bin/sh
# rwait end to end on the simulated testbed, against its real sshd: every
# node powered on answers (exit 0, rhubarbe's "<Node fitNN>:ssh OK" lines);
# ssh-refused ends ssh-timeout with the last error, at the -t deadline;
# ssh-auth-fail ends ssh-auth; a node switched off with roff is KO; the
# handshake cap (ssh_max_handshakes=2) still gets every node through;
# --json, -s, no configuration file at all, and usage errors (exit 2).
# Needs root. Ends with "N passed, M failed".
set -u
PATH=$PATH:/usr/sbin:/sbin

# --- outside: the testbed -----------------------------------------------

. "$(dirname "$0")/testlib.sh"

if [ "${1:-}" != --inside ]; then
	# The key the nodes accept, and a known_hosts of the test's own.
	sim_after_up() {
		cat >>"$D/rhubarb.conf" <<-EOF

		[networking]
		ssh_key = $D/ssh/id_ed25519
		ssh_known_hosts = $D/known_hosts
		ssh_backoff = 0.5
		EOF
	}
	sim_test_outside test-wait.sh 400 --nodes 12 --boot-delay 1
fi

# --- inside the testbed's namespace -------------------------------------

sim_test_inside "$2" "$3"

# lt WHAT A B: A < B (decimals).
lt() {
	if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a < b) }'; then ok; else
		ko "$1: $2 >= $3"
	fi
}
oks() { echo "$out" | grep -c '^<Node fit[0-9]*>:ssh OK$'; }

# --- every node on: all answer ---------------------------------------------

r ron -a
is "ron -a" "ok: fit[01-12]" "$out"
r rwait -t 60 -a
is "rwait -a: exit" 0 "$rc"
is "rwait -a: 12 OK lines" 12 "$(oks)"
has "rwait -a: rhubarbe's line" "<Node fit01>:ssh OK" "$out"
has "rwait -a: summary" "wait: 12 nodes: 12 ok" "$out"
is "rwait -a: the OK lines come last, in node order" \
    "<Node fit01>:ssh OK <Node fit12>:ssh OK" \
    "$(echo "$out" | grep '^<Node' | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//')"
is "rwait -a: stderr" "" "$err"
[ -s "$D/known_hosts" ] && ok || ko "accept-new: known_hosts written"

r rwait -s -t 30 1-3
is "-s: exit" 0 "$rc"
is "-s: no output" "" "$out"

r rwait --json -t 30 fit01 fit02
is "--json: exit" 0 "$rc"
is "--json: run-end outcomes" "ok ok" "$(echo "$out" | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e["event"] == "run-end":
        print(" ".join(n["outcome"] for n in e["results"]))' 2>&1)"

# No configuration file at all: compiled-in defaults, -o for the rest.
r env -u RHUBARB_CONFIG HOME="$T" rwait \
    -o "testbed.inventory_nodes_path=$D/inventory-nodes.json" \
    -o "testbed.state_dir=$T/state" \
    -o "networking.ssh_key=$D/ssh/id_ed25519" \
    -o "networking.ssh_known_hosts=$T/known_hosts" fit07
is "no config file: exit" 0 "$rc"
is "no config file: line" "<Node fit07>:ssh OK" "$(echo "$out" | grep '^<Node')"

# --- faults ---------------------------------------------------------------

# ssh-refused: tried again and again until -t, then ssh-timeout with the
# last error; the others are not held up.
ctl fault fit03 ssh-refused >/dev/null
r rwait -v -t 4 fit02 fit03
is "ssh-refused: exit" 1 "$rc"
has "ssh-refused: KO line" "<Node fit03>:ssh KO" "$out"
has "ssh-refused: the other OK" "<Node fit02>:ssh OK" "$out"
has "ssh-refused: outcome and why" "ssh-timeout (step ssh-wait: no result after 4s; connection refused)" "$out"
has "ssh-refused: summary" "ssh-timeout: fit03" "$out"
has "ssh-refused: -v shows the back-off" "backing off for" "$out"
[ "$(echo "$out" | grep -c 'fit03 .*trying to connect')" -ge 2 ] && ok ||
    ko "ssh-refused: retried"
lt "ssh-refused: ends at its deadline, not much later" "$took" 10
ctl fault fit03 clear >/dev/null

# ssh-auth-fail: sshd up, the key refused.
ctl fault fit04 ssh-auth-fail >/dev/null
r rwait -t 3 fit04
is "ssh-auth-fail: exit" 1 "$rc"
is "ssh-auth-fail: KO line" "<Node fit04>:ssh KO" "$(echo "$out" | grep '^<Node')"
has "ssh-auth-fail: outcome" "ssh-auth: fit04" "$out"
has "ssh-auth-fail: why" "ssh-auth (step ssh-wait: no result after 3s; authentication denied)" "$out"
ctl fault fit04 clear >/dev/null

# A node switched off.
r roff fit05
is "roff fit05" "ok: fit05" "$out"
r rwait -t 3 fit05 fit06
is "off: exit" 1 "$rc"
has "off: KO" "<Node fit05>:ssh KO" "$out"
has "off: the other OK" "<Node fit06>:ssh OK" "$out"
has "off: ssh-timeout" "ssh-timeout: fit05" "$out"

# The handshake cap: two at a time, every node still through.
r rwait -o networking.ssh_max_handshakes=2 -t 60 1-4,6-12
is "ssh_max_handshakes=2: exit" 0 "$rc"
is "ssh_max_handshakes=2: 11 OK" 11 "$(oks)"

# --- usage: exit 2, nothing tried --------------------------------------------

r rwait -t nope fit01
is "bad -t: exit" 2 "$rc"
has "bad -t: message" "bad timeout 'nope'" "$err"
r rwait -b -1 fit01
is "bad -b: exit" 2 "$rc"
r rwait fit99
is "unknown node: exit" 2 "$rc"
r rwait -o networking.ssh_key=/nonexistent/key fit01
is "unreadable key: exit" 2 "$rc"
has "unreadable key: named" "/nonexistent/key" "$err"
is "unreadable key: one line" 1 "$(echo "$err" | wc -l)"

sim_test_finish
