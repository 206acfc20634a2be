#!/usr/bin/env python3
"""Generate a deterministic load run as JSON-lines bus events (the format
of ui/render-json.c, --json) for monitor-replay: N nodes go through
nextboot, power, telnet, frisbee with progress and raw output, reset and
ssh; some fail (frisbee-timeout, ssh-timeout) and run their final reset.

  gen-events.py [--nodes N] [--pct STEP] [--pause T:LABEL]... [--abort T]

--pause inserts {"pause": LABEL} before the first event after T seconds.
--abort T: at T every unfinished node is cancelled (as after 'q' 'y').
"""
import argparse
import json

ap = argparse.ArgumentParser()
ap.add_argument("--nodes", type=int, default=12)
ap.add_argument("--pct", type=int, default=4, help="percent per progress event")
ap.add_argument("--pause", action="append", default=[])
ap.add_argument("--abort", type=float, default=None)
a = ap.parse_args()

n = a.nodes
names = ["fit%02d" % (i + 1) for i in range(n)] if n < 100 else \
    ["n%04d" % (i + 1) for i in range(n)]
ev = []  # (t, seq, dict)
seq = [0]


def add(t, event, node=None, **f):
    seq[0] += 1
    d = {"event": event, "elapsed": round(t, 3), "node": node}
    d.update(f)
    ev.append((round(t, 3), seq[0], d))


STEPS = ["nextboot-set", "power", "telnet-wait", "nextboot-clear", "frisbee",
         "power", "ssh-wait"]


def step(t, node, k, finishing=False):
    add(t, "node-step", node, step=STEPS[k], index=k, count=len(STEPS),
        finishing=finishing)


def fails(i):
    if n < 100:
        return {2: "frisbee", 6: "ssh"}.get(i)
    return "frisbee" if i % 97 == 2 else ("ssh" if i % 211 == 6 else None)


add(0, "run-start", None, run="load", nodes=names)
add(0.05, "run-info", None, level="info",
    text="frisbeed started on 234.5.6.1:10001 (sample.ndz, 500 Mibps)")
ends = {}
for i, nm in enumerate(names):
    s = 0.1 + (i % 50) * 0.02
    add(0.01, "node-state", nm, old="new", new="queued", why=None, step=None)
    add(s, "node-state", nm, old="queued", new="running", why=None, step=None)
    step(s, nm, 0)
    add(s, "node-message", nm, level="debug", source="engine",
        text="nextboot: %s -> frisbee" % nm)
    step(s + 0.2, nm, 1)
    add(s + 0.2, "node-message", nm, level="info", source="engine",
        text="reset sent to reboot%s" % nm[-2:])
    step(s + 0.5, nm, 2)
    add(s + 0.5, "node-message", nm, level="info", source="engine",
        text="waiting for telnet")
    t = s + 20 + (i % 5) * 3
    step(t, nm, 3)
    step(t + 0.1, nm, 4)
    add(t + 0.1, "node-message", nm, level="info", source="engine",
        text="frisbee client started")
    speed = 1.0 + (i % 7) * 0.15
    pct = 0
    stall = 37 if fails(i) == "frisbee" else None
    while pct < 100:
        pct = min(100, pct + a.pct)
        if stall is not None and pct > stall:
            break
        t += 2.0 / speed * a.pct / 4
        rate = 6.0e6 * speed
        add(t, "node-progress", nm, percent=pct,
            bytes=int(pct * 40e6), rate=round(rate, 1))
        if pct % 20 == 0:
            add(t, "node-message", nm, level="debug", source="stdout",
                text="Progress: %d%%  %d chunks  %.1f MB/s"
                % (pct, pct * 12, rate / 1e6))
    if stall is not None:
        t += 60
        add(t, "node-message", nm, level="error", source="engine",
            text="frisbee: no progress for 60 s")
        step(t, nm, 5, finishing=True)
        add(t + 0.3, "node-message", nm, level="info", source="engine",
            text="final reset sent")
        t += 0.5
        add(t, "node-state", nm, old="running", new="done",
            outcome="frisbee-timeout", why="no progress for 60 s", step="power")
        ends[nm] = ("frisbee-timeout", "no progress for 60 s", t)
        continue
    add(t, "node-message", nm, level="info", source="engine",
        text="image written, %d MB" % 4000)
    step(t + 0.1, nm, 5)
    step(t + 0.4, nm, 6)
    add(t + 0.4, "node-message", nm, level="info", source="engine",
        text="waiting for ssh")
    if fails(i) == "ssh":
        t += 120.4
        add(t, "node-state", nm, old="running", new="done",
            outcome="ssh-timeout", why="no ssh after 120 s", step="ssh-wait")
        ends[nm] = ("ssh-timeout", "no ssh after 120 s", t)
        continue
    t += 15 + (i % 3)
    add(t, "node-message", nm, level="info", source="engine", text="ssh up")
    add(t, "node-state", nm, old="running", new="done", outcome="ok",
        why=None, step="ssh-wait")
    ends[nm] = ("ok", None, t)

if a.abort is not None:
    # Everything after the abort is replaced by the cancellation.
    ev = [e for e in ev if e[0] <= a.abort]
    t = a.abort
    add(t, "run-info", None, level="warn", text="cancelling: aborted by user")
    for nm in names:
        if ends[nm][2] <= a.abort:
            continue
        add(t + 0.5, "node-state", nm, old="running", new="done",
            outcome="cancelled", why="aborted by user", step=None)
        ends[nm] = ("cancelled", "aborted by user", t + 0.5)

last = max(e[2] for e in ends.values())
add(last + 0.1, "run-end", None, run="load",
    interrupted=a.abort is not None,
    results=[{"node": nm, "outcome": ends[nm][0], "why": ends[nm][1]}
             for nm in names])

ev.sort(key=lambda e: (e[0], e[1]))
pauses = sorted((float(p.split(":", 1)[0]), p.split(":", 1)[1])
                for p in a.pause)
out = []
for t, _, d in ev:
    while pauses and t > pauses[0][0]:
        out.append(json.dumps({"pause": pauses.pop(0)[1]}))
    out.append(json.dumps(d, separators=(",", ":")))
for p in pauses:
    out.append(json.dumps({"pause": p[1]}))
print("\n".join(out))
