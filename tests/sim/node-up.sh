#!/bin/sh
# node-up.sh DIR: start the node-facing daemons of a rhubarb-sim testbed,
# inside its namespace (rhubarb-sim _init runs it; see DESIGN.md):
#
#   - one sshd on 0.0.0.0:22 for every node: the node is the address the
#     client connected to; the session is rhubarb-sim-node (ForceCommand),
#     and so is the AuthorizedKeysCommand, which refuses the key on a node
#     with the ssh-auth-fail fault;
#   - one socat on 0.0.0.0:23 running busybox telnetd -i per connection,
#     whose login program is rhubarb-sim-node (through DIR/sim/telnet-login:
#     telnetd takes a program without arguments).
#
# Which node accepts what (imaging: telnet, installed: ssh) is simd's nft
# gating, not ours. It also fills DIR/sim/node-bin, the tools first on a
# node session's PATH. Pids go to DIR/sim/pids/{sshd,socat}.pid. It returns
# once both listeners accept, or exits non-zero with a one-line error.
set -eu

prog=node-up.sh
die() { echo "$prog: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $prog DIR" >&2; exit 2; }
[ -d "$1" ] || die "$1: no such directory"
dir=$(cd "$1" && pwd)
S=$dir/sim
SIM_BIN=${SIM_BIN:-$(cd "$(dirname "$0")" && pwd)}
umask 022

# sshd's config and socat's address syntax both split on these.
case "$dir$SIM_BIN" in
*[[:space:]\"\'\\,:!]*) die "$dir: the testbed's path must not hold blanks, quotes, commas, colons or '!'" ;;
esac
for f in rhubarb-sim-node frisbee imagezip sim-mount.sh sim-umount.sh; do
	[ -f "$SIM_BIN/$f" ] || die "$SIM_BIN/$f: missing (build the sim programs)"
done
[ -f "$S/nodes.conf" ] || die "$S/nodes.conf: missing"
[ -f "$dir/ssh/id_ed25519.pub" ] || die "$dir/ssh/id_ed25519.pub: missing"
sshd=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$sshd" ] || die "sshd not found (apt-get install openssh-server)"
busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
"$busybox" --list | grep -qx telnetd ||
    die "$busybox has no telnetd (Debian's busybox-static has)"
command -v socat >/dev/null || die "socat not found (apt-get install socat)"
[ -x /bin/bash ] || die "/bin/bash not found (the imaging shell)"

mkdir -p "$S/ssh" "$S/pids" "$S/log" "$S/node-bin" /run/sshd

# --- the node-side tools ---------------------------------------------
nb=$S/node-bin
ln -sfn "$SIM_BIN/frisbee" "$nb/frisbee"
ln -sfn "$SIM_BIN/imagezip" "$nb/imagezip"
# Copies, not links: they must be executable whatever the build tree's
# modes.
cp "$SIM_BIN/sim-mount.sh" "$nb/mount"
cp "$SIM_BIN/sim-umount.sh" "$nb/umount"
chmod 755 "$nb/mount" "$nb/umount"
# rm first: an older testbed has nc as a link to busybox, which cp would
# follow and overwrite.
rm -f "$nb/nc"
cp "$SIM_BIN/sim-nc.sh" "$nb/nc"
chmod 755 "$nb/nc"

# --- sshd -------------------------------------------------------------

# sshd runs an AuthorizedKeysCommand only if it and every directory above
# it, symbolic links resolved, are root's and writable by nobody else.
safe_path() {
	p=$(readlink -f "$1") || return 1
	while :; do
		[ -e "$p" ] || return 1
		[ "$(stat -c %u "$p")" = 0 ] || return 1
		case "$(stat -c %A "$p")" in ?????w???? | ????????w?) return 1 ;; esac
		[ "$p" = / ] && return 0
		p=$(dirname "$p")
	done
}
# A build tree or a testbed under /tmp (mode 1777) never passes; then the
# namespace's own /etc (an overlay made by rhubarb-sim's init, invisible
# on the host) holds a copy.
keycmd=$SIM_BIN/rhubarb-sim-node
for d in "$S/bin" /etc/rhubarb-sim; do
	safe_path "$keycmd" && break
	mkdir -p "$d"
	chmod 755 "$d"
	cp "$SIM_BIN/rhubarb-sim-node" "$d/rhubarb-sim-node"
	chmod 755 "$d/rhubarb-sim-node"
	keycmd=$d/rhubarb-sim-node
done
safe_path "$keycmd" ||
    die "no root-only path for sshd's AuthorizedKeysCommand (tried $SIM_BIN, $S/bin, /etc/rhubarb-sim)"

hostkey=$S/ssh/ssh_host_ed25519_key
[ -f "$hostkey" ] || ssh-keygen -q -t ed25519 -N '' -C rhubarb-sim-node -f "$hostkey" ||
    die "ssh-keygen failed"
cat >"$S/ssh/sshd_config" <<EOF
# sshd for every node of the rhubarb-sim testbed in $dir (node-up.sh).
Port 22
ListenAddress 0.0.0.0
HostKey $hostkey
PidFile $S/pids/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
MaxStartups 2000:30:4000
LogLevel ERROR
PrintMotd no
PrintLastLog no
X11Forwarding no
PermitUserEnvironment no
AuthorizedKeysFile none
AuthorizedKeysCommand $keycmd -d $dir authkeys
AuthorizedKeysCommandUser root
ForceCommand $SIM_BIN/rhubarb-sim-node -d $dir ssh
EOF
err=$("$sshd" -t -f "$S/ssh/sshd_config" 2>&1) || die "sshd config: $(echo "$err" | head -1)"
rm -f "$S/pids/sshd.pid"
err=$("$sshd" -f "$S/ssh/sshd_config" -E "$S/log/sshd.log" 2>&1 </dev/null) ||
    die "sshd did not start: $(echo "$err" | head -1)"

# --- telnet -----------------------------------------------------------
cat >"$S/telnet-login" <<EOF
#!/bin/sh
# busybox telnetd's login program for the rhubarb-sim testbed in $dir.
exec $SIM_BIN/rhubarb-sim-node -d $dir telnet
EOF
chmod 755 "$S/telnet-login"
# The imaging shell's readline (see sim-node.c): no bracketed-paste escape
# in front of a command's first output line.
printf '%s\n' '# readline of the rhubarb-sim imaging shell (node-up.sh)' \
    'set enable-bracketed-paste off' >"$S/inputrc"
# Never -K: telnetd would close the connection as soon as the shell exits
# and lose its last lines (notes/testbed.md 2.2).
socat TCP-LISTEN:23,reuseaddr,fork,backlog=2048 \
    EXEC:"$busybox telnetd -i -f /dev/null -l $S/telnet-login",nofork \
    </dev/null >>"$S/log/socat.log" 2>&1 &
echo $! >"$S/pids/socat.pid"

# --- wait until both accept ---------------------------------------------

# A port is up when /proc/net/tcp has it in LISTEN (0A) on 0.0.0.0: no
# probe connection, which would cost an sshd fork or a telnet session.
listening() {
	awk -v p="$(printf '00000000:%04X' "$1")" '$2 == p && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}
i=0
while :; do
	if listening 22 && listening 23; then
		break
	fi
	kill -0 "$(cat "$S/pids/socat.pid")" 2>/dev/null ||
	    die "socat exited: $(tail -1 "$S/log/socat.log" 2>/dev/null)"
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		listening 22 || die "sshd does not listen on port 22 after 10 s: $(tail -1 "$S/log/sshd.log" 2>/dev/null)"
		die "socat does not listen on port 23 after 10 s: $(tail -1 "$S/log/socat.log" 2>/dev/null)"
	fi
	sleep 0.1
done
[ -s "$S/pids/sshd.pid" ] || die "sshd wrote no pid file"
exit 0
