#!/bin/sh
# The main job on the built-in simulated testbed. The simulated testbed
# (rhubarb-sim) is the next piece of work; until it lands this builds
# rhubarb and shows node selection and the inventory on the shipped
# example inventories, which is what exists today.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
b=build-release
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT INT TERM
printf '[testbed]\ninventory_nodes_path = %s/etc/inventory-extended.json\n' \
    "$top" >"$conf"
export RHUBARB_CONFIG="$conf"

run() { printf '\n$ %s\n' "$*"; "$@"; }
echo "rhubarb $("$b/rhubarb" --version | cut -d' ' -f2): the simulated testbed"
echo "(rhubarb-sim, real sshd/telnetd/ipmi_sim/snmpd) is coming; here is"
echo "what works today, on etc/inventory-extended.json:"
run "$b/rnodes" 1-12 '~5'
run "$b/rnodes" --fold @rack1,@gpu
run "$b/rnodes" --count -a
run "$b/rhubarb" inventory 'fit[01-06]'
run "$b/rhubarb" config testbed
run "$b/rhubarb" exec -f 4 'fit[01-04]' -- sh -c 'echo hello from %n at %i'
