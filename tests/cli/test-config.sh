#!/bin/sh
# "rhubarb config" end to end: origins (default, file:line, -o), the
# layers, per-host keys, secrets, --files and --json, and the exit codes
# and one-line messages of bad files, unknown keys and bad arguments.
# Runs in a temporary HOME and working directory so that no real
# ~/.rhubarb.conf or ./rhubarb.conf takes part.
set -u

: "${RHUBARB_BUILD:?RHUBARB_BUILD must name the build directory}"
RHUBARB=$RHUBARB_BUILD/rhubarb
if [ ! -x "$RHUBARB" ]; then
	echo "$RHUBARB: not built" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
HOME=$tmp/home
XDG_STATE_HOME=$tmp/state
export HOME XDG_STATE_HOME
unset RHUBARB_CONFIG NODES
mkdir -p "$HOME" "$XDG_STATE_HOME" "$tmp/cwd"
cd "$tmp/cwd" || exit 1

passed=0
failed=0
out=$tmp/out
err=$tmp/err

pass() {
	passed=$((passed + 1))
}

fail() {
	failed=$((failed + 1))
	echo "FAIL: $*" >&2
	echo "  stdout:" >&2
	sed 's/^/    /' "$out" >&2
	echo "  stderr:" >&2
	sed 's/^/    /' "$err" >&2
}

# run EXIT DESCRIPTION COMMAND...: run it, keep its output in $out and
# $err, and count a failure if its exit code is not EXIT.
run() {
	want=$1
	what=$2
	shift 2
	"$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass
	else
		fail "$what: exit $rc, expected $want"
	fi
}

# expect DESCRIPTION FILE ERE: FILE has a line matching ERE.
expect() {
	if grep -Eq -- "$3" "$2"; then
		pass
	else
		fail "$1: no line matching /$3/"
	fi
}

# refuse DESCRIPTION FILE FIXED: FILE does not contain FIXED.
refuse() {
	if grep -Fq -- "$3" "$2"; then
		fail "$1: '$3' is there"
	else
		pass
	fi
}

# lines DESCRIPTION FILE N: FILE has N lines.
lines() {
	n=$(wc -l <"$2")
	if [ "$n" -eq "$3" ]; then
		pass
	else
		fail "$1: $n lines, expected $3"
	fi
}

# A key that /etc/rhubarb/rhubarb.conf (if the machine has one) does not
# set, so that its origin is surely "default".
dkey=
for k in wait_nightly_timeout ssh_nightly_timeout load_nightly_timeout; do
	if ! grep -Eiqs "^[[:space:]]*${k}[[:space:].=:]" \
	    /etc/rhubarb/rhubarb.conf; then
		dkey=$k
		break
	fi
done

# --help, and usage errors touch no file.
run 0 "--help" "$RHUBARB" config --help
expect "--help" "$out" '^usage: rhubarb config '
run 0 "-h" "$RHUBARB" config -h
expect "-h" "$out" '--json'
run 2 "unknown SECTION" "$RHUBARB" config nodes nosuch
expect "unknown SECTION" "$err" "unknown section 'nosuch'"
run 2 "unknown option" "$RHUBARB" config --nosuch
expect "unknown option" "$err" "unknown option '--nosuch'"
run 2 "-o without argument" "$RHUBARB" config -o

# No file: defaults.
run 0 "defaults" "$RHUBARB" config nodes
expect "defaults" "$out" '^\[nodes\]$'
refuse "defaults: one section" "$out" '[networking]'
if [ -n "$dkey" ]; then
	expect "defaults: origin" "$out" "^$dkey +=.* # default\$"
fi
expect "defaults: aligned" "$out" '^fanout +  = 256 +# '
run 0 "two sections" "$RHUBARB" config networking nodes
expect "two sections" "$out" '^\[networking\]$'
expect "two sections" "$out" '^pattern_port += 10000 \+ \* +# '
refuse "two sections: only those" "$out" '[frisbee]'

# RHUBARB_CONFIG: value and file:line.
conf=$tmp/env.conf
printf '[nodes]\n# a comment\nload_default_timeout = 123\n' >"$conf"
run 0 "RHUBARB_CONFIG" env RHUBARB_CONFIG="$conf" "$RHUBARB" config nodes
expect "RHUBARB_CONFIG" "$out" \
    "^load_default_timeout += 123 +# $conf:3\$"
run 0 "--files" env RHUBARB_CONFIG="$conf" "$RHUBARB" config --files
expect "--files" "$out" "^$conf\$"

# -o wins over the file.
run 0 "-o" env RHUBARB_CONFIG="$conf" "$RHUBARB" config \
    -o nodes.load_default_timeout=77 nodes
expect "-o" "$out" '^load_default_timeout += 77 +# -o$'
run 2 "-o malformed" "$RHUBARB" config -o nodes.fanout
expect "-o malformed" "$err" 'expected SECTION.KEY=VALUE'
run 2 "-o bad value" "$RHUBARB" config -o nodes.load_default_timeout=abc
expect "-o bad value" "$err" "load_default_timeout: 'abc' is not a number"
run 2 "-o unknown key" "$RHUBARB" config -o nodes.nosuch=1
expect "-o unknown key" "$err" "unknown key 'nosuch' in section \[nodes\]"

# The layers: ~/.rhubarb.conf, then ./rhubarb.conf, then RHUBARB_CONFIG.
printf '[nodes]\nfanout = 1\nidle_after_reset = 1\ncmc_safe_timeout = 1\n' \
    >"$HOME/.rhubarb.conf"
printf '[nodes]\nfanout = 2\nidle_after_reset = 2\n' >rhubarb.conf
printf '[nodes]\n\nfanout = 3\n' >"$conf"
run 0 "layers" env RHUBARB_CONFIG="$conf" "$RHUBARB" config nodes
expect "layers: env" "$out" "^fanout += 3 +# $conf:3\$"
expect "layers: ./" "$out" '^idle_after_reset += 2 +# \./rhubarb\.conf:3$'
expect "layers: home" "$out" \
    "^cmc_safe_timeout += 1 +# $HOME/\\.rhubarb\\.conf:4\$"
run 0 "layers: --files" env RHUBARB_CONFIG="$conf" "$RHUBARB" config --files
tail -n 3 "$out" >"$tmp/last3"
printf '%s\n' "$HOME/.rhubarb.conf" ./rhubarb.conf "$conf" >"$tmp/want3"
if cmp -s "$tmp/last3" "$tmp/want3"; then pass; else
	fail "layers: --files order"; fi
rm -f "$HOME/.rhubarb.conf" rhubarb.conf

# A per-host key wins on this host, another host's key is ignored.
host=$(hostname -s 2>/dev/null || hostname | cut -d. -f1)
printf '[nodes]\nload_default_timeout.%s = 456\nload_default_timeout = 123\n' \
    "$host" >"$conf"
printf 'load_default_timeout.not%s = 789\n' "$host" >>"$conf"
run 0 "per-host" env RHUBARB_CONFIG="$conf" "$RHUBARB" config nodes
expect "per-host" "$out" "^load_default_timeout += 456 +# $conf:2\$"
lines "per-host: no warning" "$err" 0

# A bad number: exit 2, one line naming file:line and the key.
printf '[nodes]\nfanout = 4\nload_default_timeout = abc\n' >"$conf"
run 2 "bad number" env RHUBARB_CONFIG="$conf" "$RHUBARB" config
lines "bad number: one line" "$err" 1
expect "bad number" "$err" \
    "$conf:3: \\[nodes\\] load_default_timeout: 'abc' is not a number\$"
lines "bad number: no output" "$out" 0

# A syntax error names its line too.
printf '[nodes]\nfanout = 4\nnot a key\n' >"$conf"
run 2 "syntax error" env RHUBARB_CONFIG="$conf" "$RHUBARB" config
expect "syntax error" "$err" "$conf:3: syntax error\$"

# A missing RHUBARB_CONFIG is an error.
run 2 "missing RHUBARB_CONFIG" env RHUBARB_CONFIG="$tmp/nosuch.conf" \
    "$RHUBARB" config
expect "missing RHUBARB_CONFIG" "$err" "$tmp/nosuch.conf: No such file"

# An unknown key: a warning with file:line on stderr, exit 0.
printf '[nodes]\nfanuot = 3\n[bogus]\nx = 1\n' >"$conf"
run 0 "unknown key" env RHUBARB_CONFIG="$conf" "$RHUBARB" config nodes
expect "unknown key" "$err" \
    "warning: $conf:2: unknown key 'fanuot' in section \\[nodes\\]\$"
expect "unknown section" "$err" \
    "warning: $conf:4: unknown section \\[bogus\\]\$"
expect "unknown key: output" "$out" '^fanout += 256 '
lines "unknown key: each warning once" "$err" 2

# Secrets are never printed.
printf '[r2labapi]\nadmin_token = t0ps3cret\n' >"$conf"
run 0 "secret" env RHUBARB_CONFIG="$conf" "$RHUBARB" config r2labapi plcapi
expect "secret" "$out" '^admin_token += \*\*\*\*\*\*\*\* +# '
expect "empty secret" "$out" '^admin_password += +# default$'
refuse "secret" "$out" t0ps3cret

# --json parses, and says the same.
run 0 "--json" env RHUBARB_CONFIG="$conf" "$RHUBARB" config --json \
    -o nodes.fanout=9
if python3 -c 'import json,sys;json.load(sys.stdin)' <"$out"; then pass; else
	fail "--json: not JSON"; fi
refuse "--json: secret" "$out" t0ps3cret
cat >"$tmp/check.py" <<'EOF'
import json, sys
d = json.load(sys.stdin)
k = {(e["section"], e["key"]): e for e in d["keys"]}
assert d["files"][-1] == sys.argv[1], d["files"]
assert k[("nodes", "fanout")] == {"section": "nodes", "key": "fanout",
    "value": "9", "origin": "-o", "type": "int"}, k[("nodes", "fanout")]
assert k[("r2labapi", "admin_token")]["value"] == "********"
assert k[("r2labapi", "admin_token")]["origin"] == sys.argv[1] + ":2"
assert k[("networking", "pattern_port")]["type"] == "port-pattern"
assert len(k) == len(d["keys"]) > 50
EOF
if python3 "$tmp/check.py" "$conf" <"$out"; then pass; else
	fail "--json: content"; fi
run 0 "--json SECTION" "$RHUBARB" config --json logging
if python3 -c 'import json,sys
d = json.load(sys.stdin)
assert [e["key"] for e in d["keys"]] == ["level"], d' <"$out"; then pass; else
	fail "--json SECTION"; fi

# The rconfig link runs the same command.
if [ -x "$RHUBARB_BUILD/rconfig" ]; then
	run 0 "rconfig" "$RHUBARB_BUILD/rconfig" logging
	expect "rconfig" "$out" '^level += info +# '
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
