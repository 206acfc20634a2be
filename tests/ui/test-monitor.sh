#!/bin/sh
# Golden-screen tests of the curses monitor: monitor-replay feeds
# generated bus events (tests/ui/gen-events.py) into the monitor inside a
# private tmux server (-L, killed at the end); at each {"pause"} the replay
# draws and says so in a status file, and the pane is compared with
# tests/ui/golden/NAME (polled until equal, bounded). Fixed clock: the
# screens are the same on every run. RHUBARB_UPDATE_GOLDEN=1 rewrites them.
set -u
: "${RHUBARB_BUILD:?}" "${RHUBARB_SOURCE:?}"
R=$RHUBARB_BUILD/tests/ui/monitor-replay
GEN="python3 $RHUBARB_SOURCE/tests/ui/gen-events.py"
G=$RHUBARB_SOURCE/tests/ui/golden
T=$(mktemp -d)
SOCK=rbmon-$$
nstart=0
tm() { tmux -L "$SOCK-$nstart" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT INT TERM

passed=0
failed=0
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
ok() { passed=$((passed + 1)); }

# start W H EVENTS [ENV...]: the replay in a fresh session; its pane stays
# after it exits (the shell prints "[exit N]" and sleeps).
start() {
	w=$1 h=$2 ev=$3
	shift 3
	tm kill-server 2>/dev/null
	nstart=$((nstart + 1))
	rm -f "$T/status"
	tm -f /dev/null new-session -d -s t -x "$w" -y "$h" \
	    "env LANG=C.UTF-8 TERM=tmux-256color $* $R -S $T/status $ev; echo \"[exit \$?]\"; sleep 300"
}

# wait_status TEXT: the status file has a line TEXT (10 s at most).
wait_status() {
	i=0
	while [ $i -lt 100 ]; do
		grep -q "^$1" "$T/status" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	ko "no '$1' in the status file"
	return 1
}

# The replay's pid: the pane runs sh, whose child is env/monitor-replay.
replay_pid() {
	pp=$(tm display -p -t t '#{pane_pid}')
	for p in $(pgrep -P "$pp"); do
		echo "$p"
		return
	done
}

cont() { kill -USR1 "$(replay_pid)"; }

# snap NAME: the pane equals golden/NAME, within 5 s.
snap() {
	i=0
	while [ $i -lt 50 ]; do
		tm capture-pane -p -t t >"$T/screen"
		if [ "${RHUBARB_UPDATE_GOLDEN:-}" = 1 ]; then
			sleep 0.5
			tm capture-pane -p -t t >"$G/$1"
			ok
			return 0
		fi
		cmp -s "$T/screen" "$G/$1" && { ok; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	ko "screen $1 differs:"
	diff -u "$G/$1" "$T/screen" | head -40
	return 1
}

keys() { tm send-keys -t t "$@"; }

NW=RHUBARB_MONITOR_NO_WAIT=1

$GEN --pause 40:mid --pause 100:late --pause 170:almost >"$T/12.jsonl"
$GEN --pause 40:mid --abort 41 >"$T/12-abort.jsonl"
$GEN --nodes 1000 --pct 10 --pause 90:mid >"$T/1000.jsonl"

# 12 nodes at 80x24: mid-transfer, with failures, the end's summary.
start 80 24 "$T/12.jsonl" $NW
wait_status "paused mid" && snap 12-80x24-mid
cont
wait_status "paused late" && snap 12-80x24-late
cont
wait_status "paused almost" && cont
wait_status "end" && snap 12-80x24-end

# 200x60, and a live resize to 100x30 then 80x24.
start 200 60 "$T/12.jsonl" $NW
wait_status "paused mid" && snap 12-200x60-mid
tm resize-window -t t -x 100 -y 30
snap 12-resize-100x30
tm resize-window -t t -x 80 -y 24
snap 12-80x24-mid

# A node's detail (fit03, failed), help, and back.
start 80 24 "$T/12.jsonl" $NW
wait_status "paused mid" && cont
wait_status "paused late"
keys Down Down Enter
snap 12-detail-fit03
keys Escape '?'
snap 12-help
keys x
snap 12-80x24-late-fit03

# 1000 nodes: failed ones out of view pinned; PageDown scrolls.
start 80 24 "$T/1000.jsonl" $NW
wait_status "paused mid" && snap 1000-top
keys PageDown PageDown PageDown
snap 1000-pgdn3
keys End
snap 1000-end

# Abort: q asks, n keeps going, q then y calls the command's abort.
start 80 24 "$T/12-abort.jsonl" $NW
wait_status "paused mid"
keys q
snap 12-abort-ask
keys n
snap 12-80x24-mid
grep -q '^abort' "$T/status" && ko "abort called after 'n'"
keys q y
wait_status "abort" && ok
cont
wait_status "end" && snap 12-abort-end

# Colours off (NO_COLOR): no colour in the escapes; on: some (the check
# itself can fail). Reverse video and bold stay.
colours() { tm capture-pane -p -e -t t | grep -c "$(printf '\033')\[[0-9;]*\(3[0-7]\|4[0-7]\|38\|48\|9[0-7]\)[;m]"; }
start 80 24 "$T/12.jsonl" $NW NO_COLOR=1
wait_status "paused mid" && snap 12-80x24-mid
n=$(colours)
[ "$n" -eq 0 ] && ok || ko "NO_COLOR: $n lines with colour escapes"
start 80 24 "$T/12.jsonl" $NW
wait_status "paused mid" && snap 12-80x24-mid
n=$(colours)
[ "$n" -gt 0 ] && ok || ko "colours on: no colour escapes"

# With a user (no RHUBARB_MONITOR_NO_WAIT), the summary waits for a key.
start 80 24 "$T/12.jsonl"
for p in mid late almost; do wait_status "paused $p" && cont; done
snap 12-80x24-wait
sleep 0.3
grep -q '^end' "$T/status" && ko "did not wait for a key"
keys q
wait_status "end" && snap 12-80x24-end

# A fatal signal: the terminal is given back (tmux leaves the alternate
# screen curses took) and the signal still kills the process.
start 80 24 "$T/12.jsonl" $NW
wait_status "paused mid" && snap 12-80x24-mid
[ "$(tm display -p -t t '#{alternate_on}')" = 1 ] && ok ||
    ko "curses did not take the alternate screen"
kill -SEGV "$(replay_pid)"
i=0
while [ $i -lt 50 ] && ! tm capture-pane -p -t t | grep -q '^\[exit'; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(tm display -p -t t '#{alternate_on}')" = 0 ] && ok ||
    ko "SIGSEGV: the alternate screen was not left"
tm capture-pane -p -t t | grep -q '^\[exit 139\]' && ok ||
    ko "SIGSEGV: not re-raised: $(tm capture-pane -p -t t | grep exit)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
