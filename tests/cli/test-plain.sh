# The plain output of a run: through a pipe, lines only and not one
# escape or carriage return; on a terminal (script(1) gives the command a
# pty), the status line and colours, NO_COLOR honoured; -q only the
# summary; -c without a terminal falls back to plain output.
. "$RHUBARB_SOURCE/tests/cli/lib.sh"

cat >"$T/inv.json" <<'EOI'
[
 {"cmc": {"hostname": "reboot01", "ip": "192.168.1.1", "mac": "02:00:00:00:00:01"},
  "control": {"hostname": "fit01", "ip": "192.168.3.1", "mac": "00:03:1d:0e:03:01"}},
 {"cmc": {"hostname": "reboot02", "ip": "192.168.1.2", "mac": "02:00:00:00:00:02"},
  "control": {"hostname": "fit02", "ip": "192.168.3.2", "mac": "00:03:1d:0e:03:02"}},
 {"cmc": {"hostname": "reboot03", "ip": "192.168.1.3", "mac": "02:00:00:00:00:03"},
  "control": {"hostname": "fit03", "ip": "192.168.3.3", "mac": "00:03:1d:0e:03:03"}}
]
EOI
export RHUBARB_CONFIG="$T/rb.conf"
printf '[testbed]\ninventory_nodes_path = %s\nstate_dir = %s\n' \
    "$T/inv.json" "$T/state/rhubarb" >"$RHUBARB_CONFIG"
unset NO_COLOR

ESC=$(printf '\033')
CR=$(printf '\r')
# The file has no control character but tab and newline.
clean() { ! LC_ALL=C tr -d '\t\n' <"$1" | LC_ALL=C grep -q '[[:cntrl:]]'; }
# A file has, or lacks, a fixed string.
hasf() { LC_ALL=C grep -qF -- "$2" "$1" && ok || ko "$1 lacks '$2'"; }
lacksf() { LC_ALL=C grep -qF -- "$2" "$1" && ko "$1 has '$2'" || ok; }
# Run CMD... on a terminal; its output, as the terminal got it, in $1.
ontty() {
	f=$1
	shift
	script -qfec "$*" /dev/null </dev/null >"$f" 2>&1 || true
}
FAILING="sh -c '[ %n != fit02 ] && echo hello-%n; [ %n != fit02 ]'"

# A pipe: the lines, no control characters, even with a child's escapes.
expect 1 "$B/rexec" -a -- sh -c "printf 'x\033[31my\rz\n'; [ %n != fit02 ]"
has "exec: 3 nodes: fit[01-03]"
has "fit02 running -> done: child-failed (exit 1)"
has "exec: 3 nodes: 2 ok, 1 child-failed"
has "fit01 x\\x1b[31my\\x0dz"
what="pipe: no control characters"
clean "$T/out" && ok || ko "control characters: $(od -c "$T/out" | head)"
case "$out" in *"$ESC"* | *"$CR"*) ko "escape or CR in $out" ;; *) ok ;; esac
has "ok: fit[01,03]"

# -v through a pipe: still clean.
expect 1 "$B/rexec" -v -a -- sh -c '[ %n != fit02 ]'
has "step exec (1/1)"
what="pipe -v"
clean "$T/out" && ok || ko "control characters with -v"

# -q: only the summary.
expect 1 "$B/rexec" -q -a -- sh -c 'echo noise; [ %n != fit02 ]'
what="-q"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] && ok || ko "not 3 lines"
has "exec: 3 nodes: 2 ok, 1 child-failed"
has "ok: fit[01,03]"
has "child-failed: fit02"
case "$out" in *noise* | *"running ->"*) ko "more than the summary" ;; *) ok ;; esac

# A terminal: the status line, erased and drawn again, colours.
what="tty"
ontty "$T/tty" "$B/rexec" --delay 300 -a -- "$FAILING"
hasf "$T/tty" "${CR}exec 3 nodes ["
hasf "$T/tty" "3 queued  00:00${ESC}[K"
hasf "$T/tty" "${CR}${ESC}[K"
hasf "$T/tty" "hello-fit01"
hasf "$T/tty" "${ESC}[31mrunning -> done: child-failed (exit 1)${ESC}[0m"
hasf "$T/tty" "${ESC}[32m2 ok${ESC}[0m, ${ESC}[31m1 child-failed${ESC}[0m"
hasf "$T/tty" "${ESC}[32mok: fit[01,03]${ESC}[0m"
# The summary is the last thing: the status line is not drawn after it.
what="tty: ends with the summary"
tail -n 1 "$T/tty" | grep -q "child-failed: fit02" && ok || ko "$(tail -n 1 "$T/tty" | od -c | head -3)"

# NO_COLOR set: no colours, the status line stays.
what="NO_COLOR"
NO_COLOR=1 ontty "$T/nocolor" "$B/rexec" -a -- "$FAILING"
hasf "$T/nocolor" "${CR}exec 3 nodes ["
lacksf "$T/nocolor" "${ESC}[3"
lacksf "$T/nocolor" "${ESC}[0m"
hasf "$T/nocolor" "exec: 3 nodes: 2 ok, 1 child-failed"
# Set but empty: colours (no-color.org).
NO_COLOR= ontty "$T/emptycolor" "$B/rexec" -a -- "$FAILING"
hasf "$T/emptycolor" "${ESC}[32mok: fit[01,03]${ESC}[0m"

# -q on a terminal: the summary only, no status line.
what="tty -q"
ontty "$T/quiet" "$B/rexec" -q -a -- "$FAILING"
lacksf "$T/quiet" "exec 3 nodes ["
lacksf "$T/quiet" "hello-fit01"
hasf "$T/quiet" "exec: 3 nodes: ${ESC}[32m2 ok${ESC}[0m"

# --json on a terminal: JSON only, no status line, no colour.
what="tty --json"
ontty "$T/json" "$B/rexec" --json -a -- "$FAILING"
lacksf "$T/json" "$ESC"
hasf "$T/json" '"event":"run-end"'

# -c without a terminal: a warning, and the run shown the plain way.
expect 0 "$B/rexec" -c fit01 -- touch "$T/ran"
has_err "plain output instead"
has "exec: 1 node: 1 ok"
what="-c without a terminal still runs"
[ -e "$T/ran" ] && ok || ko "it did not run"
rm -f "$T/ran"
expect 2 "$B/rexec" -c -j fit01 -- touch "$T/ran"
has_err "exclude each other"
what="-c -j touches nothing"
[ -e "$T/ran" ] && ko "it ran" || ok

finish
