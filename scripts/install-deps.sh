#!/bin/sh
# Install every Debian package rhubarb needs to build, test and demo.
# Idempotent: apt-get skips what is already there. Run as root (or via sudo).
set -eu

PKGS="
build-essential cmake pkg-config clang libclang-rt-14-dev
libevent-dev libncurses-dev libtelnet-dev libssh-dev libjansson-dev
libinih-dev libfreeipmi-dev libsnmp-dev libbsd-dev libcmocka-dev
openssh-server openssh-client busybox-static socat nftables
snmpd snmp freeipmi-tools ipmitool openipmi tmux util-linux iproute2 hyperfine time
curl procps
python3 python3-jsonschema git clang-format
"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
	    missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
echo "install-deps: installing:$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
