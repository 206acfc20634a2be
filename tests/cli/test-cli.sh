# The multi-call binary: dispatch by name, help, version, exit codes.
. "$RHUBARB_SOURCE/tests/cli/lib.sh"

expect 2 "$B/rhubarb"
has_err "usage: rhubarb COMMAND"
expect 0 "$B/rhubarb" --version
has "rhubarb "
expect 0 "$B/rhubarb" --help
has "nodes"
expect 2 "$B/rhubarb" frobnicate
has_err "unknown command 'frobnicate'"
one_line_err

# Every command listed by help has its rCMD link, answers --help with
# exit 0 without reading any file, and works as rhubarb-CMD too.
cmds=$("$B/rhubarb" help | sed -n 's/^  \([a-z]*\) .*/\1/p')
[ -n "$cmds" ] && ok || ko "help lists no command"
for c in $cmds; do
	expect 0 env RHUBARB_CONFIG=/nonexistent "$B/r$c" --help
	has "usage: r$c"
	expect 0 "$B/rhubarb" "$c" --help
	has "usage: rhubarb $c"
	ln -sf "$B/rhubarb" "$T/rhubarb-$c"
	expect 0 "$T/rhubarb-$c" --help
	has "usage: rhubarb-$c"
	expect 0 "$B/rhubarb" help "$c"
done
expect 2 "$B/rhubarb" help nosuch

# A bad configuration is a one-line error and exit 2, for every command
# that reads it.
printf '[nodes]\ncmc_default_timeout = soon\n' >bad.conf
expect 2 env RHUBARB_CONFIG="$T/bad.conf" "$B/rnodes" 1
one_line_err
has_err "bad.conf:2"
no_out

# The log: a line per message with time, pid and level, in the state
# directory; when that cannot be made, a warning and stderr instead.
expect 0 "$B/rhubarb" exec -o testbed.inventory_nodes_path="$RHUBARB_TEST_DATA/inventory-r2lab.json" 1-2 -- true
log=$T/state/rhubarb/rhubarb.log
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+ [0-9]+ info fit01: ' "$log" &&
    ok || ko "log line format in $log"
touch "$T/file"
expect 0 "$B/rhubarb" exec -o testbed.state_dir="$T/file/sub" -o testbed.inventory_nodes_path="$RHUBARB_TEST_DATA/inventory-r2lab.json" 1 -- true
has_err "state directory $T/file/sub: Not a directory; logging to stderr"

finish
