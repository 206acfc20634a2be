# rhubarb exec: a local command per node through the engine. Exit codes
# (0 all ok, 1 some failed or timed out, 2 usage before anything runs),
# substitution, fan-out, the run timeout, --delay, --json, and SIGINT.
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
# state_dir too: as root the default would be /var/lib/rhubarb.
export RHUBARB_CONFIG="$T/rb.conf"
printf '[testbed]\ninventory_nodes_path = %s\nstate_dir = %s\n' \
    "$T/inv.json" "$T/state/rhubarb" >"$RHUBARB_CONFIG"

# Lines of $out matching a pattern.
count() { printf '%s\n' "$out" | grep -c -- "$1"; }

# All ok.
expect 0 "$B/rhubarb" exec -a -- true
has "exec: 3 nodes: fit[01-03]"
has "exec: 3 nodes: 3 ok"
has "ok: fit[01-03]"

# Substitution and environment; the node column is the node.
expect 0 "$B/rhubarb" exec fit02 -- sh -c 'echo "<$RHUBARB_NODE> $0 $1"' %n '%i %c 5%%'
has " fit02 <fit02> fit02 192.168.3.2 reboot02 5%"
printf '%s\n' "$out" | grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2} \+000s fit02 <fit02>' &&
    ok || ko "line format"

# One node fails, the others still run and succeed.
expect 1 "$B/rexec" -a -- sh -c '[ %n != fit02 ]'
has "exec: 3 nodes: 2 ok, 1 child-failed"
has "ok: fit[01,03]"
has "child-failed: fit02"
has "fit02 running -> done: child-failed (exit 1)"

# A command that is not there fails its nodes, with the reason.
expect 1 "$B/rhubarb" exec fit01 -- /nonexistent/command
has "child-failed (cannot run '/nonexistent/command': No such file or directory)"

# Output lines from stdout and stderr become node messages.
expect 0 "$B/rhubarb" exec fit01 -- sh -c 'echo to-out; echo to-err >&2'
has "fit01 to-out"
has "fit01 to-err"

# The run timeout: every node ends "timeout", children killed, quickly.
start=$(date +%s)
expect 1 "$B/rhubarb" exec -t 0.3 -a -- sleep 30
has "exec: 3 nodes: 3 timeout"
has "timeout: fit[01-03]"
has "running -> stopping: run timeout after 300ms"
[ $(($(date +%s) - start)) -lt 5 ] && ok || ko "timeout took too long"

# Fan-out 1: one node after the other, in order.
expect 0 "$B/rhubarb" exec -f 1 -a -- sh -c 'echo start-%n; sleep 0.05; echo end-%n'
order=$(printf '%s\n' "$out" | sed -n -e 's/.* \(start-fit0.\)$/\1/p' \
    -e 's/.* \(end-fit0.\)$/\1/p' | tr '\n' ' ')
[ "$order" = "start-fit01 end-fit01 start-fit02 end-fit02 start-fit03 end-fit03 " ] &&
    ok || ko "fan-out order: $order"

# Usage errors: exit 2, one line and the usage, and nothing runs.
for args in "fit01 touch $T/ran" \
    "fit01 --" \
    "-f 0 fit01 -- touch $T/ran" \
    "-f x fit01 -- touch $T/ran" \
    "-t 0 fit01 -- touch $T/ran" \
    "-t abc fit01 -- touch $T/ran" \
    "--delay -1 fit01 -- touch $T/ran" \
    "-Q fit01 -- touch $T/ran" \
    "fit09 -- touch $T/ran"; do
	# shellcheck disable=SC2086
	expect 2 "$B/rhubarb" exec $args
	no_out
	[ -e "$T/ran" ] && ko "something ran" || ok
done
expect 2 "$B/rhubarb" exec fit01 echo hi
has_err "rhubarb exec: no '--' before the command"
has_err "usage: rhubarb exec"
expect 2 "$B/rhubarb" exec -t -1 fit01 -- true
has_err "bad timeout '-1'"

# --json: one object per line, each valid JSON; the last is run-end.
expect 1 "$B/rhubarb" exec --json --delay 200 -a -- sh -c 'echo "q\"x"; [ %n != fit03 ]'
printf '%s\n' "$out" >"$T/json"
bad=0
while IFS= read -r line; do
	printf '%s\n' "$line" | python3 -m json.tool >/dev/null 2>&1 || bad=$((bad + 1))
done <"$T/json"
[ "$bad" -eq 0 ] && ok || ko "$bad lines are not JSON"
[ "$(count '^{"event":')" -eq "$(printf '%s\n' "$out" | wc -l)" ] && ok || ko "not one object per line"
python3 - "$T/json" <<'EOP' && ok || ko "json content"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert evs[0]["event"] == "run-start" and evs[0]["nodes"] == ["fit01", "fit02", "fit03"]
end = evs[-1]
assert end["event"] == "run-end", end
assert end["counts"] == {"ok": 2, "child-failed": 1}, end
assert {r["node"]: r["outcome"] for r in end["results"]} == \
    {"fit01": "ok", "fit02": "ok", "fit03": "child-failed"}
# --delay ran first: 200 ms at least before the command did.
assert end["elapsed"] >= 0.2, end
texts = [e["text"] for e in evs if e["event"] == "node-message" and e["source"] == "stdout"]
assert texts == ['q"x'] * 3, texts
for e in evs:
    assert set(e) >= {"event", "time", "elapsed", "node"}, e
    assert e["time"].endswith("Z") and len(e["time"]) == 24, e
EOP

# SIGINT: the run cancels, children go, nodes end "cancelled", exit 1.
"$B/rhubarb" exec -v -a -- sleep 30 >"$T/int.out" 2>&1 &
pid=$!
i=0
until grep -q "fit03 queued -> running" "$T/int.out" || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -INT "$pid"
code=0
wait "$pid" || code=$?
what="SIGINT"
[ "$code" -eq 1 ] && ok || ko "exit $code after SIGINT"
grep -q "cancelled: fit\[01-03\]" "$T/int.out" && ok || ko "not cancelled: $(cat "$T/int.out")"
grep -q "interrupted by SIGINT" "$T/int.out" && ok || ko "no reason"

finish
