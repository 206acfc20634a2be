# The reservation gate ([accounts]) through the power commands: a
# privileged login is granted without running the gate; open grants,
# closed refuses; leased runs the gate as "GATE LOGIN NODE...": exit 0
# grants, anything else refuses with its first line (exit 1, nothing
# touched, an audit line "denied"); a gate slower than gate_timeout is
# refused and killed; leased without a gate names the key; status only
# warns. The CMCs are 127.0.0.1 and .2 on port 9, where nothing listens:
# a granted action fails fast with "connection refused", which shows it
# was tried. Tests run as root, privileged by default: -o
# accounts.privileged=nobody puts the gate in the way.
. "$RHUBARB_SOURCE/tests/cli/lib.sh"

cat >"$T/inv.json" <<'EOI'
{"nodes": [
 {"cmc": {"hostname": "reboot01", "ip": "127.0.0.1"},
  "control": {"hostname": "fit01", "ip": "127.0.0.11", "mac": "02:00:00:03:00:01"},
  "ports": {"cmc": 9}},
 {"cmc": {"hostname": "reboot02", "ip": "127.0.0.2"},
  "control": {"hostname": "fit02", "ip": "127.0.0.12", "mac": "02:00:00:03:00:02"},
  "ports": {"cmc": 9}}
]}
EOI
export RHUBARB_CONFIG="$T/rb.conf"
AUDIT=$T/state/rhubarb/audit.jsonl
printf '[testbed]\ninventory_nodes_path = %s\nstate_dir = %s\n' \
    "$T/inv.json" "$T/state/rhubarb" >"$RHUBARB_CONFIG"

# Gates: each records its arguments and action, then answers.
cat >"$T/gate-yes" <<EOF
#!/bin/sh
echo "\$RHUBARB_GATE_ACTION \$*" >"$T/gate.args"
echo "lease found"
exit 0
EOF
cat >"$T/gate-no" <<EOF
#!/bin/sh
echo "\$RHUBARB_GATE_ACTION \$*" >"$T/gate.args"
echo "no lease for \$1 right now"
echo "second line, not shown"
exit 1
EOF
cat >"$T/gate-slow" <<EOF
#!/bin/sh
echo \$\$ >"$T/gate.pid"
sleep 30
echo "too late"
EOF
chmod +x "$T/gate-yes" "$T/gate-no" "$T/gate-slow"
NP="-o accounts.privileged=nobody"
me=$(id -un)
audit_lines() { if [ -f "$AUDIT" ]; then wc -l <"$AUDIT"; else echo 0; fi; }
last_audit() { tail -n 1 "$AUDIT" | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["action"], a["nodes"], a["results"])'; }
lacks_err() { case "$err" in *"$1"*) ko "stderr has '$1'" ;; *) ok ;; esac; }

# Privileged (root, by default): granted, the gate never runs.
rm -f "$T/gate.args"
expect 1 "$B/ron" -t 2 -o "accounts.gate=$T/gate-no" fit01 fit02
is_out "failed: fit[01-02] (connection refused)"
[ ! -e "$T/gate.args" ] && ok || ko "privileged: the gate ran"
lacks_err "access denied"

# Leased, the gate says yes: granted, called as GATE LOGIN NODE...
expect 1 "$B/ron" -t 2 $NP -o "accounts.gate=$T/gate-yes" fit01 fit02
is_out "failed: fit[01-02] (connection refused)"
what="gate arguments"
[ "$(cat "$T/gate.args" 2>/dev/null)" = "on $me fit01 fit02" ] && ok ||
    ko "gate.args: $(cat "$T/gate.args" 2>/dev/null)"
lacks_err "access denied"

# The gate says no: refused with its first line, nothing tried, audited.
a0=$(audit_lines)
for cmd in ron roff rreset rcycle; do
	expect 1 "$B/$cmd" -t 4 $NP -o "accounts.gate=$T/gate-no" fit01 fit02
	no_out
	one_line_err
	has_err "$cmd: access denied: no lease for $me right now"
	lacks_err "second line"
done
what="refusals audited"
[ "$(audit_lines)" -eq $((a0 + 4)) ] && ok ||
    ko "audit lines $(audit_lines), want $((a0 + 4))"
what="audit line"
[ "$(last_audit)" = "cycle fit[01-02] {'denied': 'fit[01-02]'}" ] && ok ||
    ko "audit: $(last_audit)"

# status and info only warn, and go on.
expect 1 "$B/rstatus" -t 2 $NP -o "accounts.gate=$T/gate-no" fit01
is_out "unknown: fit01 (connection refused)"
has_err "rstatus: warning: access denied: no lease for $me right now"
expect 1 "$B/rinfo" -t 2 $NP -o "accounts.gate=$T/gate-no" fit01
has_err "rinfo: warning: access denied"
has "connection refused"

# A gate slower than gate_timeout: refused, and killed with what it ran.
start=$(date +%s)
expect 1 "$B/ron" $NP -o "accounts.gate=$T/gate-slow" \
    -o accounts.gate_timeout=0.5 fit01
no_out
one_line_err
has_err "ron: access denied: gate timed out after 0.5s"
what="slow gate: bounded"
[ $(($(date +%s) - start)) -lt 10 ] && ok || ko "took $(($(date +%s) - start)) s"
what="slow gate: gone afterwards"
pid=$(cat "$T/gate.pid" 2>/dev/null)
if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then ok; else ko "pid '$pid' alive"; fi
what="slow gate: its sleep gone too"
# (An orphaned sleep is reaped by init, not by us: give that a moment.)
n=30
while [ -n "$pid" ] && ps -o pid= -o stat= -g "$pid" | grep -qv ' Z' && [ $n -gt 0 ]; do
	n=$((n - 1))
	sleep 0.1
done
if [ -n "$pid" ] && [ $n -eq 0 ]; then ko "process group $pid alive: $(ps -o pid=,stat=,args= -g "$pid")"; else ok; fi

# Leased without a gate: refused, naming the key.
expect 1 "$B/roff" $NP fit01
one_line_err
has_err "roff: access denied: no reservation gate configured ([accounts] gate): only nobody may act on nodes"
# A gate that cannot run: refused, said so.
expect 1 "$B/roff" $NP -o accounts.gate=/nonexistent/gate fit01
one_line_err
has_err "/nonexistent/gate"

# access_policy open grants, closed refuses; privileged beats both.
expect 1 "$B/ron" -t 2 $NP -o accounts.access_policy=open fit01
is_out "failed: fit01 (connection refused)"
expect 1 "$B/ron" -t 2 $NP -o accounts.access_policy=closed fit01
no_out
has_err "access denied: access is closed"
expect 1 "$B/ron" -t 2 -o accounts.access_policy=closed fit01
is_out "failed: fit01 (connection refused)"
expect 1 "$B/ron" -t 2 -o "accounts.privileged=nobody, $me" \
    -o accounts.access_policy=closed fit01
is_out "failed: fit01 (connection refused)"

# Usage errors come first: exit 2, the gate not asked.
rm -f "$T/gate.args"
expect 2 "$B/ron" $NP -o "accounts.gate=$T/gate-yes" fit99
[ ! -e "$T/gate.args" ] && ok || ko "the gate ran for a usage error"

finish
