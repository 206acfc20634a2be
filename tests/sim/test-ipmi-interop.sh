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

. "$(dirname "$0")/testlib.sh"

if [ "${1:-}" != --inside ]; then
	# A short timeout keeps the unreachable BMC quick, as on ipmipower's
	# side (--session-timeout below).
	sim_after_up() {
		printf '\n[power]\nipmi_timeout = 3\n' >>"$D/rhubarb.conf"
	}
	sim_test_outside test-ipmi-interop.sh 300 --nodes $N --power ipmi
fi

# --- inside the testbed's namespace -------------------------------------

sim_test_inside "$2" "$3"
RHUBARB=${RHUBARB_BUILD}/rhubarb
CTL="$SIM_BIN/rhubarb-sim-ctl -d $D"
PASS=$(cat "$S/bmc.pass")

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
		ko "$what: rhubarb gave $(wc -l <"$T/r.txt") of $N nodes: $(head -c 300 "$T/r.json" "$T/r.err" | tr '\n' ' ')"
		return
	fi
	if ! cmp -s "$T/r.txt" "$T/i.txt"; then
		ko "$what: rhubarb and ipmipower differ: $(diff "$T/r.txt" "$T/i.txt" | grep '^[<>]' | tr '\n' ' ')"
		return
	fi
	if [ "$(cat "$T/r.txt")" != "$want" ]; then
		ko "$what: both say $(tr '\n' ' ' <"$T/r.txt"), expected $(echo "$want" | tr '\n' ' ')"
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
	$CTL power "$n" on >/dev/null || ko "simd: power $n on"
done
rhubarb_status
ipmipower_status -W opensesspriv
compare "status, mixed" "$(truth)"

# 2. rhubarb changes them; ipmipower sees what rhubarb set.
"$RHUBARB" on --via ipmi fit02 fit05 >/dev/null 2>&1 ||
    ko "rhubarb on fit02 fit05: exit $?"
"$RHUBARB" off --via ipmi fit01 fit08 >/dev/null 2>&1 ||
    ko "rhubarb off fit01 fit08: exit $?"
rhubarb_status
ipmipower_status -W opensesspriv
compare "status after rhubarb on/off" "$(truth)"
case "$(tr '\n' ' ' <"$T/r.txt")" in
"fit01 off fit02 on fit03 on fit04 on fit05 on fit06 off fit07 off fit08 off ")
	ok ;;
*) ko "rhubarb on/off did not reach the states: $(tr '\n' ' ' <"$T/r.txt")" ;;
esac

# 3. ipmipower changes them; rhubarb sees what ipmipower set.
ipmipower -D LAN_2_0 -W opensesspriv -u admin -p "$PASS" -h bmc03,bmc04 \
    --off >/dev/null 2>&1 || ko "ipmipower --off"
ipmipower -D LAN_2_0 -W opensesspriv -u admin -p "$PASS" -h bmc07 \
    --on >/dev/null 2>&1 || ko "ipmipower --on"
rhubarb_status
ipmipower_status -W opensesspriv
compare "status after ipmipower on/off" "$(truth)"

# 4. Faults: a BMC with another password, one that drops everything.
$CTL fault fit05 bmc-badpass >/dev/null || ko "fault fit05 bmc-badpass"
$CTL fault fit06 bmc-unreachable >/dev/null || ko "fault fit06 bmc-unreachable"
rhubarb_status
ipmipower_status -W opensesspriv
compare "status with faults" "$(truth | sed -e 's/^fit05 .*/fit05 password invalid/' \
    -e 's/^fit06 .*/fit06 connection timeout/')"
# An unreachable BMC is never "off".
grep -q '^fit06 off' "$T/r.txt" && ko "unreachable BMC reported off" || ok

# 5. Without the workaround ipmi_sim refuses the session, for both.
rhubarb_status -o power.ipmi_workarounds=none
ipmipower_status
compare "no opensesspriv" "$(truth | sed -e 's/^\(fit0[1-47-8]\) .*/\1 privilege refused/' \
    -e 's/^fit05 .*/fit05 privilege refused/' \
    -e 's/^fit06 .*/fit06 connection timeout/')"

$CTL fault fit05 clear >/dev/null 2>&1
$CTL fault fit06 clear >/dev/null 2>&1
sim_test_finish
