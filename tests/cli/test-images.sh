#!/bin/sh
# Shell tests of rimages, rresolve and rshare: the row format, aliases,
# lookups and their exit codes, bad names (exit 2), a dry run that changes
# nothing, and (as root) a real share, across file systems when possible.
. "${RHUBARB_SOURCE:?}/tests/cli/lib.sh"

P="$T/pub"
mkdir -p "$P" "$T/work"
cd "$T/work"
O="-o frisbee.images_dir=$P"
export TZ=UTC

mk() { # mk PATH SIZE TOUCH-DATE
	head -c "$2" /dev/zero >"$1"
	touch -d "$3" "$1"
}
mk "$P/ubuntu.ndz" 2048 '2025-01-01 10:00'
ln -s ubuntu.ndz "$P/ubuntu-latest.ndz"
mk "$P/debian.ndz" 100 '2024-06-01 08:30'
ln -s nowhere.ndz "$P/gone.ndz"
mk saving__fit01__2026-01-02@03-04__debian.ndz 3000000 '2026-01-02 03:04'
mk saving__fit02__2025-01-02@03-04__debian.ndz 10 '2025-01-02 03:04'

# rimages: rows, aka rows, sorting, filters
expect 0 "$B/rimages" $O
has "2025-01-01 10:00     2.00K  ubuntu         $P/ubuntu.ndz"
has "                       aka  ubuntu-latest  $P/ubuntu-latest.ndz"
has "2026-01-02 03:04     2.86M  debian         saving__fit01__2026-01-02@03-04__debian.ndz"
has "     100B  debian "
has_err "gone.ndz"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 5 ] && ok || ko "5 rows"
expect 0 "$B/rimages" $O -l -n
is_out "2025-01-01 10:00     2.00K  ubuntu
                       aka  ubuntu-latest"
expect 0 "$B/rimages" $O -p -n -s
is_out "2024-06-01 08:30      100B  debian
2025-01-01 10:00     2.00K  ubuntu
                       aka  ubuntu-latest"
expect 0 "$B/rimages" $O -d -r -n
first=$(printf '%s\n' "$out" | head -n 1)
[ "$first" = "2026-01-02 03:04     2.86M  debian" ] && ok || ko "-d -r order"
expect 0 "$B/rimages" $O -n fit02 latest
[ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] && ok || ko "any focus"
expect 0 "$B/rimages" $O -a fit02 latest
no_out
expect 0 "$B/rimages" $O -a saving fit01
has "saving__fit01"
expect 0 "$B/rimages" $O --json -l
has '"radical": "ubuntu-latest"'
has '"size": 2048'
expect 2 "$B/rimages" $O -s -d
has_err "-s and -d exclude each other"
expect 2 "$B/rimages" -x
has_err "unknown option '-x'"

# In the public directory: listed once.
(cd "$P" && "$B/rimages" $O -n) >"$T/o2" 2>/dev/null
[ "$(wc -l <"$T/o2")" -eq 3 ] && ok || ko "cwd = public listed once"

# rresolve: newest wins; paths; exit codes
expect 0 "$B/rresolve" $O debian
is_out "saving__fit01__2026-01-02@03-04__debian.ndz"
expect 0 "$B/rresolve" $O ubuntu
is_out "$P/ubuntu.ndz"
expect 0 "$B/rresolve" $O debian.ndz
is_out "$P/debian.ndz"
expect 0 "$B/rresolve" $O "$P/debian.ndz"
is_out "$P/debian.ndz"
mk "$T/elsewhere.ndz" 1 '2020-01-01'
expect 0 "$B/rresolve" $O ../elsewhere.ndz
is_out "../elsewhere.ndz"
expect 0 "$B/rresolve" $O -v debian
has "* 2026-01-02 03:04     2.86M  saving__fit01"
has "  2024-06-01 08:30      100B  $P/debian.ndz"
expect 1 "$B/rresolve" $O nothing
one_line_err
has_err "image nothing not found"
expect 1 "$B/rresolve" $O gone
expect 1 "$B/rresolve" $O ./missing.ndz
one_line_err
expect 2 "$B/rresolve" $O ""
one_line_err
expect 2 "$B/rresolve" $O "$(printf 'a\tb')"
has_err "control character"
expect 2 "$B/rresolve" $O
expect 2 "$B/rresolve" $O a b

# rshare: bad names exit 2 and touch nothing
expect 2 "$B/rshare" $O -a ../evil debian
has_err "has a '/'"
expect 2 "$B/rshare" $O -a -x debian
expect 2 "$B/rshare" $O -a .. debian
expect 2 "$B/rshare" $O -a debian debian
has_err "own name"
expect 2 "$B/rshare" $O "$P/ubuntu-latest.ndz"
has_err "symbolic link"
expect 2 "$B/rshare" $O ""
expect 1 "$B/rshare" $O nothing
expect 1 "$B/rshare" -o frisbee.images_dir="$T/nope" debian
one_line_err
# The destination exists: refused without -f, even in a dry run.
expect 1 "$B/rshare" $O -n debian
has_err "exists (-f to overwrite)"

# Dry run: says what it would do, changes nothing.
before=$(ls -l "$P" . | md5sum)
expect 0 "$B/rshare" $O -n -f -c -a stable debian
has "would move saving__fit01__2026-01-02@03-04__debian.ndz -> $P/debian.ndz"
has "would link $P/stable.ndz -> debian.ndz"
has "would chmod a+r $P/debian.ndz"
has "would remove saving__fit02__2025-01-02@03-04__debian.ndz"
has "dry run:"
after=$(ls -l "$P" . | md5sum)
[ "$before" = "$after" ] && ok || ko "dry run changed files"

if [ "$(id -u)" -ne 0 ]; then
	# Not root: always a dry run.
	expect 0 "$B/rshare" $O -f -a stable debian
	has "not root"
	after=$(ls -l "$P" . | md5sum)
	[ "$before" = "$after" ] && ok || ko "non-root changed files"
else
	# A non-root user cannot change anything, when we can be one.
	if command -v setpriv >/dev/null 2>&1; then
		chmod 755 "$T" "$T/work"
		code=0
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$B/rshare" $O -f debian >"$T/out" 2>"$T/err" || code=$?
		[ "$code" -eq 0 ] && grep -q "not root" "$T/out" && ok ||
		    ko "setpriv non-root: exit $code"
	fi
	chmod 600 saving__fit01__2026-01-02@03-04__debian.ndz
	expect 0 "$B/rshare" $O -f -c -a stable debian
	has "move saving__fit01"
	[ -f "$P/debian.ndz" ] && [ "$(wc -c <"$P/debian.ndz")" -eq 3000000 ] &&
	    ok || ko "moved file"
	[ "$(readlink "$P/stable.ndz")" = "debian.ndz" ] && ok || ko "alias"
	[ ! -e saving__fit01__2026-01-02@03-04__debian.ndz ] &&
	    [ ! -e saving__fit02__2025-01-02@03-04__debian.ndz ] && ok ||
	    ko "origin or clean"
	case "$(stat -c %A "$P/debian.ndz")" in
	-r??r??r??) ok ;;
	*) ko "chmod a+r" ;;
	esac
	expect 0 "$B/rresolve" $O stable
	is_out "$P/stable.ndz"
	# Already public under its radical: only the alias moves.
	expect 0 "$B/rshare" $O -a newest debian
	[ "$(readlink "$P/newest.ndz")" = "debian.ndz" ] && ok || ko "alias 2"
	# An alias over a regular file needs -f.
	mk "$P/plain.ndz" 1 '2020-01-01'
	expect 1 "$B/rshare" $O -a plain debian
	has_err "not a link"
	# Across file systems (tmpfs): copy, sync, rename, unlink.
	if [ -d /dev/shm ] && S=$(mktemp -d /dev/shm/rhubarb-test.XXXXXX); then
		mk saving__fit05__2026-02-02@02-02__arch.ndz 70000 '2026-02-02'
		expect 0 "$B/rshare" -o frisbee.images_dir="$S" arch
		[ "$(wc -c <"$S/arch.ndz")" -eq 70000 ] && ok || ko "copied"
		[ ! -e saving__fit05__2026-02-02@02-02__arch.ndz ] && ok ||
		    ko "origin left"
		[ "$(ls -A "$S")" = "arch.ndz" ] && ok || ko "temporary left"
		[ "$(stat -c %Y "$S/arch.ndz")" = "$(date -d 2026-02-02 +%s)" ] &&
		    ok || ko "mtime kept"
		rm -rf "$S"
	fi
fi

finish
