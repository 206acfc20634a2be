# rhubarb inventory: table, JSON, selection, and bad inventories.
. "$RHUBARB_SOURCE/tests/cli/lib.sh"
D=$RHUBARB_TEST_DATA

expect 0 "$B/rhubarb" inventory -o testbed.inventory_nodes_path="$D/inventory-extended.json"
has "fit01  10.0.3.1"
has "cmc reboot01:80"
has "ipmi bmc02:623"
has "pdu pdu1:6+pdu2:6"
has "[rack1]"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 13 ] && ok || ko "want 13 lines"

export RHUBARB_CONFIG="$T/rb.conf"
printf '[testbed]\ninventory_nodes_path = %s\n' "$D/inventory-extended.json" >"$RHUBARB_CONFIG"
expect 0 "$B/rhubarb" inventory 'fit[05-06]'
[ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] && ok || ko "want 3 lines"
has "fit06"

expect 0 "$B/rinventory" --json @gpu
printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
names = [n["name"] for n in d["nodes"]]
assert names == ["fit04", "fit08", "fit12"], names
n = d["nodes"][2]
assert n["ports"] == {"cmc": 80, "telnet": 2323, "ssh": 2222}, n
assert n["pdu"] == [{"pdu": "pdu1", "outlet": 12}, {"pdu": "pdu2", "outlet": 12}]
assert d["nodes"][1]["ipmi"]["host"] == "bmc08"
' && ok || ko "json content"

expect 2 "$B/rhubarb" inventory fit99
one_line_err
has_err "fit99"
no_out

# rhubarbe's own format, read unchanged.
expect 0 "$B/rhubarb" inventory -o testbed.inventory_nodes_path="$D/inventory-r2lab.json" 37
has "fit37"
has "cmc reboot37:80"

# Broken inventories: one line naming the file and the place, exit 2.
printf '[{"control": {"hostname": "fit01", "ip": "10.0.0.1", "mac": "nope"}, "cmc": {"hostname": "r1", "ip": "10.0.1.1"}}]' >bad.json
expect 2 "$B/rhubarb" inventory -o testbed.inventory_nodes_path="$T/bad.json"
one_line_err
has_err "bad.json: node 1 (fit01): control: malformed mac 'nope'"
printf '[' >trunc.json
expect 2 "$B/rnodes" 1 -o testbed.inventory_nodes_path="$T/trunc.json"
one_line_err
has_err "trunc.json:1:"
expect 2 "$B/rnodes" 1 -o testbed.inventory_nodes_path="$T/missing.json"
has_err "missing.json: cannot read inventory"

finish
