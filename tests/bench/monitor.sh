#!/bin/sh
# Benchmark: CPU cost of the curses monitor with 1000 nodes loading. The
# same generated run (1000 nodes, progress every 1 %, about 130k events
# over ~200 s of run time) is replayed at SPEED x real time twice in this
# run: into the monitor inside a 200x60 tmux pane, and with no sink (the
# baseline: the replay's own parsing and publishing). Prints both CPU
# times, the monitor's share and its percent of one core.
#   tests/bench/monitor.sh [BUILD_DIR] [SPEED]
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-$SRC/build}
SPEED=${2:-10}
R=$B/tests/ui/monitor-replay
T=$(mktemp -d)
SOCK=rbbench-$$
trap 'tmux -L "$SOCK" kill-server 2>/dev/null; rm -rf "$T"' EXIT INT TERM

python3 "$SRC/tests/ui/gen-events.py" --nodes 1000 --pct 1 >"$T/ev.jsonl"
echo "events: $(wc -l <"$T/ev.jsonl"), speed ${SPEED}x"

run() { # run MODE: the replay in tmux, until its "end" status line
	rm -f "$T/status"
	tmux -L "$SOCK" -f /dev/null new-session -d -s "$1" -x 200 -y 60 \
	    "env LANG=C.UTF-8 RHUBARB_MONITOR_NO_WAIT=1 $R -m $1 -s $SPEED -S $T/status $T/ev.jsonl; sleep 5"
	i=0
	while ! grep -q '^end' "$T/status" 2>/dev/null; do
		sleep 0.5
		i=$((i + 1))
		[ $i -lt 1200 ] || { echo "bench: $1 did not end" >&2; exit 1; }
	done
	grep '^end' "$T/status"
}

base=$(run none)
mon=$(run monitor)
echo "baseline (no sink): $base"
echo "monitor:            $mon"
field() { echo "$1" | sed -n "s/.*$2=\([0-9]*\).*/\1/p"; }
bc=$(field "$base" cpu_ms)
mc=$(field "$mon" cpu_ms)
mw=$(field "$mon" wall_ms)
fr=$(field "$mon" frames)
awk -v bc="$bc" -v mc="$mc" -v mw="$mw" -v fr="$fr" 'BEGIN {
	d = mc - bc; if (d < 0) d = 0
	printf "monitor: %d ms CPU over %d ms (%d frames, %.1f/s): ", d, mw, fr, fr * 1000 / mw
	printf "%.2f%% of one core; total/baseline %.2fx\n", 100 * d / mw, (bc > 0 ? mc / bc : 0)
}'
