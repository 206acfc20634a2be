# Crash recovery of nextboot links: a journal left by a run that died
# (SIGKILL, crash) is undone by the next command of any kind that reads
# the configuration, which says so; a live run's journal and links that
# someone repointed since are left alone.
. "$RHUBARB_SOURCE/tests/cli/lib.sh"
D=$RHUBARB_TEST_DATA

S="$T/st"
P="$T/pxelinux.cfg"
mkdir -p "$S/nextboot" "$P"
export RHUBARB_CONFIG="$T/rb.conf"
printf '[testbed]\ninventory_nodes_path = %s\ngroups_path = %s\nstate_dir = %s\n[pxelinux]\nconfig_dir = %s\n' \
    "$D/inventory-r2lab.json" "$T/no-groups" "$S" "$P" >"$RHUBARB_CONFIG"

# A pid that is surely gone: a child we reaped.
sh -c 'exit 0' &
dead=$!
wait "$dead" || true

# journal DIR RUN PID START NODE LINK TARGET
journal() {
	f="$S/nextboot/$3-$2.journal"
	printf '#rhubarb-nextboot\t%s\t%s\t%s\n' "$2" "$3" "$4" >"$f"
	printf '%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$5" "$6" "$7" >>"$f"
	echo "$f"
}

# 1. A dead run's link is removed by rnodes, which says so.
L1="$P/01-02-00-00-03-0a-01"
j=$(journal x dead-run "$dead" 1 fit01 "$L1" pxefrisbee)
ln -s pxefrisbee "$L1"
expect 0 "$B/rnodes" 1
is_out "fit01"
has_err "rnodes: recovered 1 nextboot link left by run dead-run (pid $dead)"
one_line_err
if [ -L "$L1" ]; then ko "link $L1 still there"; else ok; fi
if [ -e "$j" ]; then ko "journal $j still there"; else ok; fi

# 2. Nothing left: silent.
expect 0 "$B/rnodes" 1
no_err() { if [ -z "$err" ]; then ok; else ko "unexpected stderr"; fi; }
no_err

# 3. Repointed since by someone else: kept, with a warning.
j=$(journal x dead-two "$dead" 1 fit01 "$L1" pxefrisbee)
ln -s someone-else "$L1"
expect 0 "$B/rhubarb" inventory 1
has_err "changed since; left alone"
if [ "$(readlink "$L1")" = someone-else ]; then ok; else ko "link changed"; fi
if [ -e "$j" ]; then ko "journal $j still there"; else ok; fi
rm -f "$L1"

# 4. A live process's journal (this shell, its start time): left alone.
start=$(sed 's/.*) //' /proc/$$/stat | awk '{ print $20 }')
j=$(journal x live-run $$ "$start" fit01 "$L1" pxefrisbee)
ln -s pxefrisbee "$L1"
expect 0 "$B/rnodes" 1
no_err
if [ -L "$L1" ]; then ok; else ko "live run's link removed"; fi
if [ -e "$j" ]; then ok; else ko "live run's journal removed"; fi
rm -f "$j" "$L1"

# 5. A dangling link of a dead run goes too; a regular file never does.
L2="$P/01-02-00-00-03-0a-02"
j=$(journal x dead-three "$dead" 1 fit01 "$L1" pxefrisbee)
printf '%s\t%s\t%s\t%s\t%s\n' dead-three "$dead" fit02 "$L2" pxefrisbee >>"$j"
ln -s pxefrisbee "$L1" # dangling: no pxefrisbee in $P
echo "default local" >"$L2"
expect 0 "$B/rconfig" pxelinux
has_err "recovered 1 nextboot link left by run dead-three (pid $dead)"
has_err "1 nextboot link changed since; left alone"
if [ -L "$L1" ]; then ko "dangling link kept"; else ok; fi
if [ -f "$L2" ]; then ok; else ko "regular file removed"; fi

finish
