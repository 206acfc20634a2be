#!/bin/sh
# Static guards CI enforces: clang-format (KNF, .clang-format) on every C
# file, and the dependency rules of DESIGN.md: curses only in ui/, protocol
# libraries only in drivers/, no event loop in inventory/, no deprecated
# libevent API, no exit() outside ui/main.c.
set -eu
cd "$(dirname "$0")/.."

fail=0
bad() { echo "check-style: $*" >&2; fail=1; }

files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]')
if command -v clang-format >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	clang-format --dry-run -Werror $files 2>/dev/null ||
	    bad "not formatted: run clang-format -i on the files above" \
	    "($(clang-format --dry-run $files 2>&1 | grep -c warning) places)"
fi

src=$(echo "$files" | grep -v '^tests/' || true)
grepl() { # grepl PATTERN FILES...: files that match
	pat=$1; shift
	[ $# -gt 0 ] || return 0
	grep -l -E "$pat" "$@" 2>/dev/null || true
}
# shellcheck disable=SC2086
for f in $(grepl '#include *[<"](n?curses|ncursesw/curses)\.h' \
    $(echo "$src" | grep -v '^ui/')); do
	bad "$f: curses outside ui/"
done
# shellcheck disable=SC2086
for f in $(grepl '#include *<(libssh/|libtelnet\.h|freeipmi/|net-snmp/)' \
    $(echo "$src" | grep -v '^drivers/')); do
	bad "$f: protocol library outside drivers/"
done
# shellcheck disable=SC2086
for f in $(grepl '#include *<event2/' $(echo "$src" | grep '^inventory/')); do
	bad "$f: inventory/ must not use the event loop"
done
# shellcheck disable=SC2086
for f in $(grepl 'event_compat\.h|bufferevent_compat\.h|event_init\(' $src); do
	bad "$f: deprecated libevent API"
done
# shellcheck disable=SC2086
for f in $(grepl '(^|[^_a-z])exit\(' $(echo "$src" | grep -v '^ui/main\.c$')); do
	bad "$f: exit() outside ui/main.c"
done
# shellcheck disable=SC2086
for f in $(grepl 'ipmi_ctx_open_outofband|ipmi_cmd_chassis_control' $src); do
	bad "$f: blocking libfreeipmi API"
done
[ "$fail" -eq 0 ] && echo "check-style: ok"
exit "$fail"
