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

finish
