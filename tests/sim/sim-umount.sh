#!/bin/sh
# umount, as a node session of rhubarb-sim sees it: the counterpart of
# sim-mount.sh. "umount /mnt" undoes the bind mount of the node's root
# partition; "umount /dev/sda1" finds where that partition is mounted. The
# session has its own mount namespace, so nothing outside it changes.
#
# node-up.sh installs this as DIR/sim/node-bin/umount.

prog=umount
if [ -z "${RHUBARB_SIM_DIR:-}" ] || [ -z "${RHUBARB_SIM_NODE:-}" ]; then
	echo "$prog: not in a rhubarb-sim node session" >&2
	exit 1
fi
while [ $# -gt 0 ]; do
	case "$1" in
	-l | -f | -v | -n | -r) shift ;;
	--) shift; break ;;
	-*) echo "$prog: invalid option -- '${1#-}'" >&2; exit 1 ;;
	*) break ;;
	esac
done
if [ $# -ne 1 ]; then
	echo "$prog: bad usage" >&2
	echo "Try 'umount --help' for more information." >&2
	exit 1
fi

case "$1" in
/dev/sda1 | /dev/hda1 | /dev/vda1 | /dev/xvda1 | /dev/nvme0n1p1)
	# Where is the node's root partition mounted? mountinfo's 4th field
	# is the mount's root within its file system (so only the end of
	# $root's path), the 5th its mount point.
	where=$(awk -v r="/sim/nodes/$RHUBARB_SIM_NODE/root" '
	    length($4) >= length(r) && substr($4, length($4) - length(r) + 1) == r { print $5; exit }' /proc/self/mountinfo)
	if [ -z "$where" ]; then
		echo "$prog: $1: not mounted." >&2
		exit 32
	fi
	exec /bin/umount "$where"
	;;
/dev/*)
	echo "$prog: $1: no mount point specified." >&2
	exit 32
	;;
esac
exec /bin/umount "$1"
