#!/bin/sh
# The main job on the built-in simulated testbed, from a fresh Debian 12
# machine: install what is needed, build, start a 12-node testbed (real
# sshd, telnetd, ipmi_sim, snmpd; simulated CMC cards), work on it, stop
# it. The load command (rload) is the next piece of work; until it lands
# this drives what exists: node selection, the inventory, power through
# CMC cards, BMCs and PDUs, and the engine running a command per node.
#
# Usage: scripts/demo.sh [NODES]     (root: the testbed needs namespaces)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
n=${1:-12}
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi

sh scripts/install-deps.sh >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
b=$top/build-release
tb=$(mktemp -d /tmp/rhubarb-demo.XXXXXX)
trap '"$b/rhubarb-sim" down --dir "$tb" >/dev/null 2>&1; rm -rf "$tb"' EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$b/rhubarb-sim" run --dir "$tb" -- "$@"
}

say "a simulated testbed of $n nodes"
"$b/rhubarb-sim" up --nodes "$n" --dir "$tb" --boot-delay 1
cd "$tb"

say "node selection, as rhubarbe's, plus hostlists and groups"
run rnodes 1-12 '~5'
run rnodes --fold @ipmi,@pdu
run rhubarb inventory 'fit[01-06]'

say "power, through each node's own back end: CMC (HTTP), BMC (IPMI 2.0), PDU outlets (SNMP)"
run rstatus -a
run ron -a
run rstatus --lines 1-6

say "wait until each node answers ssh (the engine running one command per node)"
run rhubarb exec -a -t 60 -- sh -c "until ssh -q -i $tb/ssh/id_ed25519 \
-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
-o ConnectTimeout=2 root@%n true; do sleep 1; done; echo up"

say "what each node runs (its /etc/rhubarbe-image)"
run rhubarb exec 1-4 -- ssh -q -i "$tb/ssh/id_ed25519" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@%n \
    cat /etc/rhubarbe-image

say "a dead CMC is 'unknown', never 'off', and the command exits 1; a dual-PSU node cycles as one"
"$b/rhubarb-sim" fault --dir "$tb" fit04 cmc-dead
run rstatus 1-6 || echo "(exit $?)"
run rcycle fit06
run rhubarb inventory fit06

say "rload (loading images) comes next: see the issues"
