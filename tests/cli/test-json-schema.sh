# The --json event stream against docs/events.schema.json: real runs of
# rexec (a failing node, a run timeout, a SIGINT) and the unit test's
# story of every event type (node-progress has no command yet), each line
# validated, strictly (no field the schema does not name), with every
# event type seen at least once. Needs python3-jsonschema.
. "$RHUBARB_SOURCE/tests/cli/lib.sh"

# Debian's interpreter, where python3-jsonschema installs: a python3 of
# pyenv or a venv first on PATH would not see it.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
	echo "FAIL: python3-jsonschema is not installed (scripts/install-deps.sh)"
	exit 1
fi

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

# A failing node, output on both streams, a delay step.
expect 1 "$B/rexec" --json --delay 10 -a -- sh -c 'echo out-%n; echo err >&2; [ %n != fit02 ]'
cp "$T/out" "$T/fail.jsonl"
# A run timeout: run-info, stopping, timeout outcomes.
expect 1 "$B/rexec" -j -t 0.3 -a -- sleep 30
cp "$T/out" "$T/timeout.jsonl"
# SIGINT: cancelled, interrupted.
"$B/rexec" --json -a -- sleep 30 >"$T/int.jsonl" 2>"$T/int.err" &
pid=$!
i=0
until [ "$(grep -c '"new":"running"' "$T/int.jsonl")" -ge 3 ] || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -INT "$pid"
code=0
wait "$pid" || code=$?
what="SIGINT"
[ "$code" -eq 1 ] && ok || ko "exit $code after SIGINT"
# Every event type, from the renderer's unit test.
what="unit events"
RHUBARB_EVENTS_OUT="$T/unit.jsonl" "$B/tests/test-render" >/dev/null 2>&1 &&
    [ -s "$T/unit.jsonl" ] && ok || ko "test-render did not write its events"

what="schema"
if "$PY" - "$RHUBARB_SOURCE/docs/events.schema.json" "$T/fail.jsonl" \
    "$T/timeout.jsonl" "$T/int.jsonl" "$T/unit.jsonl" <<'EOP'; then ok; else ko "see above"; fi
import copy, json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
cls = jsonschema.Draft202012Validator
cls.check_schema(schema)
loose = cls(schema)
# Strict: the renderer writes no field the schema does not document.
strict_schema = copy.deepcopy(schema)
types = [e["if"]["properties"]["event"]["const"] for e in schema["allOf"]]
for t in types:
    strict_schema["$defs"][t]["unevaluatedProperties"] = False
strict = cls(strict_schema)

seen = {}
bad = 0
for path in sys.argv[2:]:
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        where = "%s:%d" % (path.rsplit("/", 1)[-1], n)
        try:
            ev = json.loads(line)
        except ValueError as e:
            print("%s: not JSON: %s" % (where, e))
            bad += 1
            continue
        for v in (loose, strict):
            for err in v.iter_errors(ev):
                print("%s: %s: %s" % (where, "/".join(map(str, err.path)), err.message))
                bad += 1
        if ev.get("event") not in types:
            print("%s: unknown event %r" % (where, ev.get("event")))
            bad += 1
        seen.setdefault(ev.get("event"), set()).add(path)
missing = [t for t in types if t not in seen]
if missing:
    print("event types never seen:", ", ".join(missing))
    bad += 1
# The real runs alone give everything but node-progress.
real = {t for t, paths in seen.items() if any(not p.endswith("unit.jsonl") for p in paths)}
if real != set(types) - {"node-progress"}:
    print("real runs missed:", sorted(set(types) - {"node-progress"} - real))
    bad += 1
sys.exit(1 if bad else 0)
EOP

# The schema rejects what it should: a wrong type, a missing field.
what="schema rejects"
if "$PY" - "$RHUBARB_SOURCE/docs/events.schema.json" <<'EOP'; then ok; else ko "accepted bad events"; fi
import json, sys
import jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
head = {"time": "2024-03-05T12:00:00.000Z", "elapsed": 0.5}
bad = [
    dict(head, event="node-progress", node="fit01", percent="45", bytes=0, rate=None),
    dict(head, event="node-progress", node="fit01", percent=101, bytes=0, rate=None),
    dict(head, event="node-state", node="fit01", old="running", new="done", why=None, step=None),
    dict(head, event="run-start", node=None, run="exec"),
    dict(head, event="node-message", node="fit01", level="loud", source="engine", text="x"),
    dict(event="run-info", node=None, level="info", text="x"),
]
good = [
    # Unknown events and fields pass: consumers skip them.
    dict(head, event="node-future", node="fit01", anything=1),
    dict(head, event="run-info", node=None, level="info", text="x", extra=[1]),
]
sys.exit(0 if all(not v.is_valid(e) for e in bad) and all(v.is_valid(e) for e in good) else 1)
EOP

finish
