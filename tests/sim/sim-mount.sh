#!/bin/sh
# mount, as a node session of rhubarb-sim sees it (DESIGN.md, "Node
# sessions"). A node's disk is a directory, its root partition, so
# "mount /dev/sda1 /mnt" bind-mounts DIR/sim/nodes/NODE/root on /mnt; the
# session has its own mount namespace, so nothing shows outside it. Any
# other partition does not exist, and mount says so as util-linux's does
# (exit 32). With no argument, list the mounts.
#
# node-up.sh installs this as DIR/sim/node-bin/mount.

prog=mount
if [ -z "${RHUBARB_SIM_DIR:-}" ] || [ -z "${RHUBARB_SIM_NODE:-}" ]; then
	echo "$prog: not in a rhubarb-sim node session" >&2
	exit 1
fi
root=$RHUBARB_SIM_DIR/sim/nodes/$RHUBARB_SIM_NODE/root

# Options mount takes on such a command line; their values do not matter.
while [ $# -gt 0 ]; do
	case "$1" in
	-t | -o | -O) [ $# -ge 2 ] || { echo "$prog: option requires an argument -- '${1#-}'" >&2; exit 1; }; shift 2 ;;
	-t* | -o* | -O*) shift ;;
	-r | -w | -v | -n | -f | --ro | --rw) shift ;;
	--) shift; break ;;
	-*) echo "$prog: invalid option -- '${1#-}'" >&2; exit 1 ;;
	*) break ;;
	esac
done

case $# in
0) exec /bin/mount ;;
2) ;;
*)
	echo "$prog: bad usage" >&2
	echo "Try 'mount --help' for more information." >&2
	exit 1
	;;
esac
dev=$1
dir=$2
if [ ! -d "$dir" ]; then
	echo "$prog: $dir: mount point does not exist." >&2
	exit 32
fi
case "$dev" in
/dev/sda1 | /dev/hda1 | /dev/vda1 | /dev/xvda1 | /dev/nvme0n1p1) ;;	# the first partition of the node's one disk
*)
	echo "$prog: $dir: special device $dev does not exist." >&2
	exit 32
	;;
esac
if [ ! -d "$root" ]; then
	echo "$prog: $dir: can't read superblock on $dev." >&2
	exit 32
fi
exec /bin/mount --bind "$root" "$dir"
