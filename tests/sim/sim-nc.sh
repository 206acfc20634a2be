#!/bin/sh
# nc, as a node session of rhubarb-sim sees it. "nc IP PORT" (the client
# end of rhubarbe's "imagezip ... | nc IP PORT") connects from the node's
# own control address, as a real node's would, so that a collector which
# accepts only the node's address can be tested; every other use is
# busybox's nc. It sends its standard input and exits when it ends
# (status 1 if the connection fails).
#
# node-up.sh installs this as DIR/sim/node-bin/nc.

if [ $# -eq 2 ] && [ -n "${RHUBARB_SIM_DIR:-}" ] &&
    [ -n "${RHUBARB_SIM_NODE:-}" ]; then
	case "$1$2" in
	*[!0-9.]*) ;;
	*)
		ip=$(awk -v n="$RHUBARB_SIM_NODE" '$1 == "node" && $2 == n { print $4 }' \
		    "$RHUBARB_SIM_DIR/sim/nodes.conf")
		if [ -n "$ip" ]; then
			exec socat -u STDIN "TCP4:$1:$2,bind=$ip"
		fi
		;;
	esac
fi
exec busybox nc "$@"
