# Shared helpers for the shell tests of the binary. Source it; it makes a
# private temp directory (HOME, XDG_STATE_HOME, cwd) so that no real
# configuration is read, and removes it on exit.
#
#   expect CODE CMD...     run CMD, check its exit code; output in $out, $err
#   has TEXT               $out contains TEXT
#   has_err TEXT           $err contains TEXT
#   one_line_err           $err is exactly one line
#   finish                 print "N passed, M failed" and exit accordingly

: "${RHUBARB_BUILD:?set RHUBARB_BUILD to the build directory}"
B=$RHUBARB_BUILD
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
export HOME="$T/home" XDG_STATE_HOME="$T/state"
mkdir -p "$HOME" "$XDG_STATE_HOME"
unset NODES RHUBARB_CONFIG
# As root the state directory would be /var/lib/rhubarb: keep it here.
printf '[testbed]\nstate_dir = %s/state/rhubarb\n' "$T" >"$HOME/.rhubarb.conf"
cd "$T"

passed=0
failed=0
what=
out=
err=
code=

ok() { passed=$((passed + 1)); }
ko() {
	failed=$((failed + 1))
	printf 'FAIL: %s: %s\n' "$what" "$*"
	printf '  stdout: %s\n' "$(head -c 600 "$T/out")"
	printf '  stderr: %s\n' "$(head -c 600 "$T/err")"
}

expect() {
	want=$1
	shift
	what="$*"
	code=0
	"$@" >"$T/out" 2>"$T/err" || code=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	if [ "$code" -eq "$want" ]; then ok; else ko "exit $code, want $want"; fi
}

has() {
	case "$out" in
	*"$1"*) ok ;;
	*) ko "stdout lacks '$1'" ;;
	esac
}

has_err() {
	case "$err" in
	*"$1"*) ok ;;
	*) ko "stderr lacks '$1'" ;;
	esac
}

is_out() {
	if [ "$out" = "$1" ]; then ok; else ko "stdout is not '$1'"; fi
}

one_line_err() {
	if [ -n "$err" ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]; then
		ok
	else
		ko "stderr is not one line"
	fi
}

no_out() {
	if [ -z "$out" ]; then ok; else ko "unexpected stdout"; fi
}

finish() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
}
