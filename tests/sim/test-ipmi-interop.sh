#!/bin/sh
# Interoperability of rhubarb's IPMI driver with FreeIPMI's ipmipower, on
# the simulated testbed's real ipmi_sim BMCs: for the same BMCs in the
# same state, "rhubarb status --via ipmi --json" gives each node the result
# "ipmipower --stat" gives its BMC: on and off (mixed, after rhubarb and
# after ipmipower changed them), password invalid (bmc-badpass),
# connection timeout (bmc-unreachable), and the refused privilege of an
# ipmi_sim asked without the opensesspriv workaround. Needs root.
#
# It brings an 8-node IPMI testbed up, runs itself inside it ("--inside
# DIR SIM_BIN"), and takes it down on any exit. Every wait is bounded.
# Ends with "N passed, M failed".
set -u
PATH=$PATH:/usr/sbin:/sbin
N=8

# --- outside: the testbed -----------------------------------------------

if [ "${1:-}" != --inside ]; then
	: "${RHUBARB_BUILD:?set RHUBARB_BUILD to the build directory}"
	SIM=$RHUBARB_BUILD/rhubarb-sim
	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	T=$(mktemp -d)
	D=$T/tb
	export HOME="$T/home" XDG_STATE_HOME="$T/state"
	mkdir -p "$HOME" "$XDG_STATE_HOME"
	cd "$T" || exit 1
	cleanup() {
		"$SIM" down --dir "$D" >/dev/null 2>&1
		rm -rf "$T"
	}
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	if [ "$(id -u)" -ne 0 ]; then
		echo "test-ipmi-interop.sh: needs root (namespaces)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	if ! timeout 180 "$SIM" up --nodes $N --power ipmi --dir "$D" \
	    >"$T/up.log" 2>&1; then
		echo "FAIL: rhubarb-sim up: $(tail -n 3 "$T/up.log" | tr '\n' ' ')"
		echo "0 passed, 1 failed"
		exit 1
	fi
	# ipmi_sim needs the workaround (ipmipower -W opensesspriv); a
	# short timeout keeps the unreachable BMC quick, as on ipmipower's
	# side (--session-timeout below).
	cat >>"$D/rhubarb.conf" <<-EOF

	[power]
	ipmi_workarounds = opensesspriv
	ipmi_timeout = 3
	EOF
	timeout 300 "$SIM" run --dir "$D" -- \
	    sh "$self" --inside "$D" "$RHUBARB_BUILD/sim-bin"
	rc=$?
	if [ $rc -eq 124 ]; then
		echo "FAIL: the checks did not end within 300 s"
		echo "0 passed, 1 failed"
	fi
	exit $rc
fi

# --- inside the testbed's namespace -------------------------------------

D=$2
SIM_BIN=$3
S=$D/sim
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
RHUBARB=${RHUBARB_BUILD}/rhubarb
CTL="$SIM_BIN/rhubarb-sim-ctl -d $D"
PASS=$(cat "$S/bmc.pass")
passed=0
failed=0

ok() {
	passed=$((passed + 1))
}
fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

nodes=$(i=1; while [ $i -le $N ]; do printf 'fit%02d\n' $i; i=$((i + 1)); done)
bmcs=$(echo "$nodes" | sed 's/^fit/bmc/' | paste -sd, -)

# "node result" lines from rhubarb's JSON (jansson, one key per line):
# result, or the reason when the result is unknown.
rhubarb_status() {
	"$RHUBARB" status --via ipmi --json "$@" $nodes >"$T/r.json" 2>"$T/r.err"
	awk '
	/"summary":/ { exit }
	/^   "node": / { gsub(/[",]/, "", $2); node = $2 }
	/^   "result": / { gsub(/[",]/, "", $2); result = $2 }
	/^   "reason": / {
		sub(/^   "reason": /, ""); sub(/,$/, ""); gsub(/"/, "")
		print node, (result == "unknown" ? $0 : result)
	}' "$T/r.json" | sort >"$T/r.txt"
}

# "node result" lines from ipmipower (bmcNN: result), in our words.
ipmipower_status() {
	ipmipower -D LAN_2_0 -u admin -p "$PASS" -h "$bmcs" --stat \
	    --session-timeout=3000 "$@" 2>&1 |
	    sed -e 's/^bmc/fit/' \
		-e 's/privilege level cannot be obtained for this user$/privilege refused/' \
		-e 's/BMC busy$/controller busy/' \
		-e 's/BMC error$/controller error/' \
		-e 's/: / /' | sort >"$T/i.txt"
}

# Both agree, and on what we expect ("node result" lines).
compare() {
	what=$1
	want=$2
	if [ "$(wc -l <"$T/r.txt")" -ne $N ]; then
		fail "$what: rhubarb gave $(wc -l <"$T/r.txt") of $N nodes: $(head -c 300 "$T/r.json" "$T/r.err" | tr '\n' ' ')"
		return
	fi
	if ! cmp -s "$T/r.txt" "$T/i.txt"; then
		fail "$what: rhubarb and ipmipower differ: $(diff "$T/r.txt" "$T/i.txt" | grep '^[<>]' | tr '\n' ' ')"
		return
	fi
	if [ "$(cat "$T/r.txt")" != "$want" ]; then
		fail "$what: both say $(tr '\n' ' ' <"$T/r.txt"), expected $(echo "$want" | tr '\n' ' ')"
		return
	fi
	ok
}

# The truth, from simd: "node on|off" lines.
truth() {
	for n in $nodes; do
		st=$($CTL state "$n" 2>/dev/null)
		case "$st" in
		*chassis=on*) echo "$n on" ;;
		*) echo "$n off" ;;
		esac
	done
}

# 1. Mixed states set behind both clients' backs.
for n in fit01 fit03 fit04 fit08; do
	$CTL power "$n" on >/dev/null || fail "simd: power $n on"
done
rhubarb_status
ipmipower_status -W opensesspriv
compare "status, mixed" "$(truth)"

# 2. rhubarb changes them; ipmipower sees what rhubarb set.
"$RHUBARB" on --via ipmi fit02 fit05 >/dev/null 2>&1 ||
    fail "rhubarb on fit02 fit05: exit $?"
"$RHUBARB" off --via ipmi fit01 fit08 >/dev/null 2>&1 ||
    fail "rhubarb off fit01 fit08: exit $?"
rhubarb_status
ipmipower_status -W opensesspriv
compare "status after rhubarb on/off" "$(truth)"
case "$(tr '\n' ' ' <"$T/r.txt")" in
"fit01 off fit02 on fit03 on fit04 on fit05 on fit06 off fit07 off fit08 off ")
	ok ;;
*) fail "rhubarb on/off did not reach the states: $(tr '\n' ' ' <"$T/r.txt")" ;;
esac

# 3. ipmipower changes them; rhubarb sees what ipmipower set.
ipmipower -D LAN_2_0 -W opensesspriv -u admin -p "$PASS" -h bmc03,bmc04 \
    --off >/dev/null 2>&1 || fail "ipmipower --off"
ipmipower -D LAN_2_0 -W opensesspriv -u admin -p "$PASS" -h bmc07 \
    --on >/dev/null 2>&1 || fail "ipmipower --on"
rhubarb_status
ipmipower_status -W opensesspriv
compare "status after ipmipower on/off" "$(truth)"

# 4. Faults: a BMC with another password, one that drops everything.
$CTL fault fit05 bmc-badpass >/dev/null || fail "fault fit05 bmc-badpass"
$CTL fault fit06 bmc-unreachable >/dev/null || fail "fault fit06 bmc-unreachable"
rhubarb_status
ipmipower_status -W opensesspriv
compare "status with faults" "$(truth | sed -e 's/^fit05 .*/fit05 password invalid/' \
    -e 's/^fit06 .*/fit06 connection timeout/')"
# An unreachable BMC is never "off".
grep -q '^fit06 off' "$T/r.txt" && fail "unreachable BMC reported off" || ok

# 5. Without the workaround ipmi_sim refuses the session, for both.
rhubarb_status -o power.ipmi_workarounds=none
ipmipower_status
compare "no opensesspriv" "$(truth | sed -e 's/^\(fit0[1-47-8]\) .*/\1 privilege refused/' \
    -e 's/^fit05 .*/fit05 privilege refused/' \
    -e 's/^fit06 .*/fit06 connection timeout/')"

$CTL fault fit05 clear >/dev/null 2>&1
$CTL fault fit06 clear >/dev/null 2>&1
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
