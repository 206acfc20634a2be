# Shared by the simulator's end-to-end tests that run their checks inside
# a testbed (source it). Outside, sim_test_outside brings a testbed up in a
# private temporary directory, lets the script adjust it, reruns the script
# inside it with a time limit and always takes it down. Inside,
# sim_test_inside sets D, SIM_BIN, S and T and the assertion helpers below
# count results for the closing "N passed, M failed" line.
#
# Hooks a script may define before calling sim_test_outside:
#   sim_before_up   runs before "up" (T and D are set); a $T/faults file it
#                   writes (NODE KIND lines) is given to up as --faults
#   sim_after_up    runs after "up" (e.g. append to $D/rhubarb.conf)

# sim_test_outside NAME LIMIT UP_OPTIONS...: never returns.
sim_test_outside() {
	name=$1
	limit=$2
	shift 2
	: "${RHUBARB_BUILD:?set RHUBARB_BUILD to the build directory}"
	SIM=$RHUBARB_BUILD/rhubarb-sim
	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	T=$(mktemp -d)
	D=$T/tb
	# No real configuration may leak in.
	export HOME="$T/home" XDG_STATE_HOME="$T/state"
	mkdir -p "$HOME" "$XDG_STATE_HOME"
	cd "$T" || exit 1
	trap '"$SIM" down --dir "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT
	trap 'exit 1' INT TERM
	if [ "$(id -u)" -ne 0 ]; then
		echo "$name: needs root (namespaces)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	if command -v sim_before_up >/dev/null 2>&1; then
		sim_before_up
	fi
	if [ -f "$T/faults" ]; then
		set -- "$@" --faults "$T/faults"
	fi
	if ! timeout 180 "$SIM" up "$@" --dir "$D" >"$T/up.log" 2>&1; then
		echo "FAIL: rhubarb-sim up: $(tail -n 3 "$T/up.log" | tr '\n' ' ')"
		for f in "$D"/sim/log/*; do
			[ -f "$f" ] && echo "--- $f" && tail -n 5 "$f"
		done
		echo "0 passed, 1 failed"
		exit 1
	fi
	if command -v sim_after_up >/dev/null 2>&1; then
		sim_after_up
	fi
	timeout "$limit" "$SIM" run --dir "$D" -- \
	    sh "$self" --inside "$D" "$RHUBARB_BUILD/sim-bin"
	rc=$?
	if [ $rc -eq 124 ]; then
		echo "FAIL: the checks did not end within $limit s"
		echo "0 passed, 1 failed"
	fi
	exit $rc
}

# sim_test_inside DIR SIM_BIN (then the helpers below: ok, ko, is, has,
# lacks, wait_until, r, ctl, state, audit_lines, links, sim_test_finish)
sim_test_inside() {
	D=$1
	SIM_BIN=$2
	S=$D/sim
	T=$(mktemp -d)
	trap 'rm -rf "$T"' EXIT
	cd "$T" || exit 1
	passed=0
	failed=0
}

ok() { passed=$((passed + 1)); }
ko() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
# is WHAT WANT GOT: equal strings.
is() { if [ "$3" = "$2" ]; then ok; else ko "$1: got '$3', want '$2'"; fi; }
# has WHAT WANT GOT: GOT contains WANT.
has() {
	case "$3" in
	*"$2"*) ok ;;
	*) ko "$1: '$3' lacks '$2'" ;;
	esac
}
# lacks WHAT UNWANTED GOT
lacks() {
	case "$3" in
	*"$2"*) ko "$1: '$3' has '$2'" ;;
	*) ok ;;
	esac
}
# wait_until TENTHS CMD...: retry CMD until it succeeds, at most TENTHS/10 s.
wait_until() {
	n=$1
	shift
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}
# r CMD ARGS...: run a command, bounded; its stdout in $out, stderr in
# $err, exit code in $rc, and the wall-clock seconds it took in $took.
r() {
	t0=$(date +%s.%N)
	timeout 300 "$@" >"$T/out" 2>"$T/err"
	rc=$?
	took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}
# ctl ARGS...: the simulator's control client.
ctl() { timeout 20 "$SIM_BIN/rhubarb-sim-ctl" -d "$D" "$@" 2>&1; }
# state NODE: off, booting, imaging or installed.
state() { ctl state "$1" | awk '{ print $2 }'; }
# audit_lines: how many lines the audit log has.
audit_lines() {
	if [ -f "$D/state/audit.jsonl" ]; then
		wc -l <"$D/state/audit.jsonl"
	else
		echo 0
	fi
}
# links: how many nextboot links pxelinux.cfg holds.
links() { find "$D/pxelinux.cfg" -name '01-*' | wc -l; }
sim_test_finish() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
}
