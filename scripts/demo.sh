#!/bin/sh
# The main job on the built-in simulated testbed, from a fresh Debian 12
# machine: install what is needed, build, start a 12-node testbed (real
# sshd, telnetd, ipmi_sim, snmpd; simulated CMC cards), work on it, stop
# it. The load command (rload) is the next piece of work; until it lands
# this drives what exists: node selection, the inventory, and the engine
# running a command per node against the testbed's CMCs and sshd.
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

say "every CMC's status, through the engine (one command per node)"
run rhubarb exec -a -- curl -sS -m 3 http://%c/status

say "power on the nodes that have a CMC or a BMC (PDU nodes are powered by their outlets), then wait for ssh"
run rhubarb exec @cmc,@ipmi -- curl -sS -m 3 http://%c/on
run rhubarb exec @cmc,@ipmi -t 60 -- sh -c "until ssh -q -i $tb/ssh/id_ed25519 \
-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
-o ConnectTimeout=2 root@%n true; do sleep 1; done; echo up"

say "what each node runs (its /etc/rhubarbe-image)"
run rhubarb exec '@cmc,@ipmi&1-5' -- ssh -q -i "$tb/ssh/id_ed25519" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@%n \
    cat /etc/rhubarbe-image

say "a dead CMC is a typed per-node outcome, and exit code 1"
"$b/rhubarb-sim" fault --dir "$tb" fit03 cmc-dead
run rhubarb exec -t 5 1-4 -- curl -sS -m 2 http://%c/status || echo "(exit $?)"

say "rload (loading images) comes next: see the issues"
