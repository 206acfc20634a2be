# rhubarb nodes (rnodes): rhubarbe's output and grammar, --fold, --count,
# -a, $NODES, groups, errors, and the three ways to call it.
. "$RHUBARB_SOURCE/tests/cli/lib.sh"
D=$RHUBARB_TEST_DATA

# The R2lab inventory (fit01..fit37), through a config file.
export RHUBARB_CONFIG="$T/rb.conf"
printf '[testbed]\ninventory_nodes_path = %s\ngroups_path = %s\n' \
    "$D/inventory-r2lab.json" "$T/no-groups" >"$RHUBARB_CONFIG"

expect 0 "$B/rnodes" fit4-reboot7 '~5' 1-20-5,33
is_out "fit01 fit04 fit06 fit07 fit11 fit16 fit33"
expect 0 "$B/rnodes" '~3' 1-5
is_out "fit01 fit02 fit03 fit04 fit05"
expect 0 "$B/rnodes" 1-5 '~3'
is_out "fit01 fit02 fit04 fit05"
expect 0 "$B/rnodes" 004 reboot01 data37
is_out "fit01 fit04 fit37"
expect 0 "$B/rnodes" --fold 1-12 15 '!7'
is_out "fit[01-06,08-12,15]"
expect 0 "$B/rnodes" --fold 9
is_out "fit09"
expect 0 "$B/rnodes" --count 'fit[01-20/2]'
is_out "10"
expect 0 "$B/rnodes" 5-3
is_out ""

# -a: every node, or testbed.all_scope, then the arguments.
expect 0 "$B/rnodes" -a --count
is_out "37"
expect 0 "$B/rnodes" -a '~10-37'
is_out "fit01 fit02 fit03 fit04 fit05 fit06 fit07 fit08 fit09"
expect 0 "$B/rnodes" -a --fold -o testbed.all_scope=1-20 '~10-15'
is_out "fit[01-09,16-20]"

# $NODES when no argument and no -a; arguments win over it.
NODES="1-3 ~2" expect 0 "$B/rnodes"
is_out "fit01 fit03"
NODES="1-3" expect 0 "$B/rnodes" 7
is_out "fit07"
expect 2 "$B/rnodes"
one_line_err
has_err "rnodes: no nodes given: name some, use -a, or set NODES"
no_out

# Unknown or misformed nodes: exit 2, one line on stderr, nothing out.
expect 2 "$B/rnodes" 1 99
one_line_err
has_err "rnodes: fit99: not in the inventory"
no_out
expect 2 "$B/rnodes" 1-40
has_err "fit38: not in the inventory"
expect 2 "$B/rnodes" 1-2-3-4
one_line_err
has_err "misformed node range '1-2-3-4'"
no_out
expect 2 "$B/rnodes" 'fit[3-'
one_line_err
has_err "misformed hostlist 'fit[3-'"
expect 2 "$B/rnodes" ''
has_err "empty node spec"
expect 2 "$B/rnodes" --fold --count 1
has_err "exclude each other"
expect 2 "$B/rnodes" --bogus 1
has_err "unknown option '--bogus'"
no_out

# Groups: from the inventory and from a groups file.
G="-o testbed.inventory_nodes_path=$D/inventory-extended.json -o testbed.groups_path=$D/groups"
expect 0 "$B/rnodes" $G '@rack1&@gpu'
is_out "fit04 fit12"
expect 0 "$B/rnodes" $G @rack1
is_out "fit01 fit02 fit03 fit04 fit12"
expect 0 "$B/rnodes" $G --fold @odd @front
is_out "fit[01-05,07,09,11]"
expect 0 "$B/rnodes" $G '@all!fit03' --count
is_out "11"
expect 2 "$B/rnodes" $G @nope
one_line_err
has_err "@nope: no such group"
printf 'a: @b\nb: @a\n' >"$T/loop"
expect 2 "$B/rnodes" -o testbed.groups_path="$T/loop" @a
one_line_err
has_err "@a: group loop"
printf 'a: 1\nbroken line\n' >"$T/broken"
expect 2 "$B/rnodes" -o testbed.groups_path="$T/broken" 1
one_line_err
has_err "broken:2: expected 'name: nodes'"

# The same command as "rhubarb nodes" and as a rhubarb-nodes link.
expect 0 "$B/rhubarb" nodes fit4-reboot7 '~5' 1-20-5,33
is_out "fit01 fit04 fit06 fit07 fit11 fit16 fit33"
ln -s "$B/rhubarb" "$T/rhubarb-nodes"
expect 0 "$T/rhubarb-nodes" --fold 1-3
is_out "fit[01-03]"
expect 2 "$B/rhubarb" nodes 99
has_err "rhubarb nodes: fit99: not in the inventory"
expect 0 "$B/rnodes" --help
has "usage: rnodes"

finish
