#!/bin/sh
# rsave end to end on the simulated testbed: the full plan (nextboot link,
# boot, telnet, imagezip | nc into rhubarb's collector, final reset) writes
# saving__fitNN__DATE__RADICAL.ndz holding the node's root (a tar here)
# and stamps the node's /etc/rhubarbe-image; -n on a node already in the
# imaging system; the imagezip-fail fault (exit 1, save-failed, neither
# the image nor a .partial left, the link cleared, the node reset); usage
# errors with nothing touched (two nodes, no -o, a comment with a newline,
# an existing image); and a hostile comment stored verbatim that runs
# nothing on the node. Needs root.
#
# It brings a 3-node testbed up, runs itself inside it ("--inside DIR
# SIM_BIN"), and takes it down on any exit. Every wait is bounded. Ends
# with "N passed, M failed".
set -u
PATH=$PATH:/usr/sbin:/sbin

. "$(dirname "$0")/testlib.sh"

if [ "${1:-}" != --inside ]; then
	sim_test_outside test-save.sh 400 --nodes 3 --boot-delay 1
fi

# --- inside the testbed's namespace -------------------------------------

sim_test_inside "$2" "$3"
AUDIT=$D/state/audit.jsonl

images() { find . -maxdepth 1 -name 'saving__*' | sort | tr '\n' ' '; }
stamp() { tail -n 1 "$S/nodes/$1/root/etc/rhubarbe-image"; }
# imaging NODE: boot it on the imaging system by hand (link, reset, wait),
# then remove the link, as a load or save would have.
imaging() {
	mac=$(awk -v n="$1" '$1 == "node" && $2 == n { print $5 }' "$S/nodes.conf" | tr : -)
	ln -sfn pxefrisbee "$D/pxelinux.cfg/01-$mac"
	ctl power "$1" on >/dev/null
	ctl power "$1" reset >/dev/null
	wait_until 100 sh -c "'$SIM_BIN/rhubarb-sim-ctl' -d '$D' state $1 | grep -q ' imaging '"
	rm -f "$D/pxelinux.cfg/01-$mac"
}

W=$T/work
mkdir -p "$W"
cd "$W" || exit 1
echo "marker $$" >"$S/nodes/fit02/root/root/marker"

# --- the full plan --------------------------------------------------------

is "fit02 starts off" off "$(state fit02)"
r rsave -t 120 -o mine fit02
is "rsave exit" 0 "$rc"
is "rsave stderr" "" "$err"
img=$(ls saving__fit02__*__mine.ndz 2>/dev/null)
case "$img" in
saving__fit02__[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]@[0-9][0-9]-[0-9][0-9]__mine.ndz) ok ;;
*) ko "image name: '$img'" ;;
esac
has "rsave says where and how much" "fit02: saved $img (" "$out"
has "rsave: outcome" "ok: fit02" "$out"
is "the image holds the node's files" "marker $$" \
    "$(tar -xOf "$img" ./root/marker 2>&1)"
has "the image holds the stamp" "- node fit02  - image mine - by root" \
    "$(tar -xOf "$img" ./etc/rhubarbe-image 2>&1)"
has "the node's stamp" "- node fit02  - image mine - by root" "$(stamp fit02)"
lacks "no comment, no trailing ' - '" "root - " "$(stamp fit02)"
is "no partial file" "" "$(ls ./*.partial 2>/dev/null)"
is "no nextboot link left" 0 "$(links)"
wait_until 100 sh -c "'$SIM_BIN/rhubarb-sim-ctl' -d '$D' state fit02 | grep -q ' installed '"
is "final reset: fit02 back on its disk" installed "$(state fit02)"
is "audit: one line" 1 "$(audit_lines)"
has "audit: a save" '"action":"save"' "$(tail -n 1 "$AUDIT")"
has "audit: the result" '"results":{"ok":"fit02"}' "$(tail -n 1 "$AUDIT")"

# --- -n: the node already runs the imaging system -------------------------

imaging fit02
is "fit02 in the imaging system" imaging "$(state fit02)"
r rsave -n -o nreset --json fit02
is "rsave -n exit" 0 "$rc"
has "rsave -n --json: where the image went" \
    '"node":"fit02","level":"info","source":"engine","text":"saved saving__fit02__' \
    "$out"
lacks "rsave -n --json: nothing but JSON" "fit02: saved" "$out"
# Every line valid against docs/events.schema.json (Debian's python3, where
# python3-jsonschema installs).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
	ko "python3-jsonschema is not installed (scripts/install-deps.sh)"
else
	if "$PY" - "$RHUBARB_SOURCE/docs/events.schema.json" "$T/out" <<-'EOP'; then ok; else ko "rsave --json against the schema"; fi
	import json, sys
	import jsonschema
	v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
	bad = 0
	for n, line in enumerate(open(sys.argv[2], encoding="utf-8"), 1):
	    for err in v.iter_errors(json.loads(line)):
	        print("line %d: %s" % (n, err.message))
	        bad += 1
	sys.exit(1 if bad else 0)
	EOP
fi
is "rsave -n: one image more" 1 "$(ls saving__fit02__*__nreset.ndz | wc -l)"
is "rsave -n: no reset, still imaging" imaging "$(state fit02)"
is "rsave -n: no link made" 0 "$(links)"

# --- a hostile comment: stored as it is, runs nothing ---------------------

rm -f /tmp/pwnedX /tmp/pwnedY "$S/nodes/fit02/root/tmp/pwnedX"
hostile="\$(touch /tmp/pwnedX)'; touch /tmp/pwnedY \`touch /tmp/pwnedX\` \\ \"q\""
r rsave -n -o hostile -c "$hostile" fit02
is "hostile comment: exit" 0 "$rc"
is "hostile comment: stored verbatim" \
    "- node fit02  - image hostile - by root - $hostile" \
    "$(stamp fit02 | sed 's/^[^ ]* //')"
is "hostile comment: nothing ran" "" \
    "$(ls /tmp/pwnedX /tmp/pwnedY "$S/nodes/fit02/root/tmp/pwnedX" 2>/dev/null)"

# --- imagezip fails half way -----------------------------------------------

ctl fault fit01 imagezip-fail >/dev/null
r rsave -t 120 -o bad fit01
is "imagezip-fail: exit" 1 "$rc"
has "imagezip-fail: outcome" "save-failed: fit01" "$out"
has "imagezip-fail: why" "imagezip pipeline exit 1" "$out"
is "imagezip-fail: no image" "" "$(ls ./*__bad.ndz 2>/dev/null)"
is "imagezip-fail: no partial file" "" "$(ls ./*.partial 2>/dev/null)"
is "imagezip-fail: no link left" 0 "$(links)"
wait_until 100 sh -c "'$SIM_BIN/rhubarb-sim-ctl' -d '$D' state fit01 | grep -q ' installed '"
is "imagezip-fail: the final reset ran" installed "$(state fit01)"
has "imagezip-fail: audited" '"results":{"save-failed":"fit01"}' \
    "$(tail -n 1 "$AUDIT")"
ctl fault fit01 clear >/dev/null

# --- refused before anything is touched (exit 2) --------------------------

before_images=$(images)
before_audit=$(audit_lines)
before_state=$(state fit03)
r rsave -o two fit01 fit03
is "two nodes: exit" 2 "$rc"
has "two nodes: why" "exactly one node" "$err"
is "two nodes: one line" 1 "$(echo "$err" | grep -c .)"
r rsave fit03
is "no -o: exit" 2 "$rc"
r rsave -o nl -c "two
lines" fit03
is "newline in the comment: exit" 2 "$rc"
has "newline in the comment: why" "control character" "$err"
r rsave -o ../up fit03
is "bad radical: exit" 2 "$rc"
# An image of this minute (and the next, in case the clock turns) exists.
for m in 0 1; do
	touch "saving__fit03__$(date -d "+$m min" +%Y-%m-%d@%H-%M)__dup.ndz"
done
r rsave -o dup fit03
is "existing image: exit" 2 "$rc"
has "existing image: why" "already exists" "$err"
rm -f saving__fit03__*__dup.ndz
is "refusals: no link made" 0 "$(links)"
is "refusals: no image made" "$before_images" "$(images)"
is "refusals: not audited" "$before_audit" "$(audit_lines)"
is "refusals: fit03 untouched" "$before_state" "$(state fit03)"

sim_test_finish
