#!/bin/sh
# The main job on the built-in simulated testbed, from a fresh Debian 12
# machine: install what is needed, build, start a 12-node testbed (real
# sshd, telnetd, ipmi_sim, snmpd; simulated CMC cards), work on it, stop
# it: load an image on every node (the whole pipeline: nextboot links,
# power through CMC cards, BMCs and PDUs, telnet, frisbee against a
# frisbeed of its own, final reset, ssh), save a node's disk into a new
# image and load it back, wait for ssh, and see a fault handled.
#
# Usage: scripts/demo.sh [NODES]     (root: the testbed needs namespaces)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
n=${1:-12}
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "demo.sh: run it as root (the simulated testbed needs namespaces)" >&2
		exit 2
	}
	exec sudo "$top/scripts/demo.sh" "$@"
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
run rimages

say "load the sample image on every node, and wait until they answer ssh"
run rload -i sample --wait -a

say "what each node runs now (its /etc/rhubarbe-image)"
run rhubarb exec 1-4 -- ssh -q -i "$tb/ssh/id_ed25519" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@%n \
    cat /etc/rhubarbe-image

say "save fit02's disk as a new image, then load it on fit05 and fit06"
run rsave -o demo -c "made by the demo" fit02
img=$(ls "$tb"/saving__fit02__*__demo.ndz)
run rload -i "$img" 5-6
run rwait 5-6

say "a dead CMC: that node fails at its own deadline, the others load, exit 1"
"$b/rhubarb-sim" fault --dir "$tb" fit04 cmc-dead
run rload -i sample 3-5 || echo "(exit $?)"
"$b/rhubarb-sim" fault --dir "$tb" fit04 clear
run rstatus 1-6
