#!/bin/sh
# The whole test suite, as CI runs it, on a fresh Debian 12 machine:
#   1. install what the project needs (scripts/install-deps.sh);
#   2. static guards: formatting and the layering rules of DESIGN.md;
#   3. an Asan (address+undefined) build with -Werror, and every ctest;
#   4. a hardened Release build with -Werror, and every ctest again;
#   5. the libFuzzer harnesses (clang), a short run each.
# Usage: scripts/test.sh [-q]   (-q: skip the Release pass)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# The simulated testbed's end-to-end tests need root (namespaces).
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "test.sh: run it as root (the simulated testbed needs namespaces)" >&2
		exit 2
	}
	exec sudo sh "$top/scripts/test.sh" "$@"
fi
jobs=$(nproc 2>/dev/null || echo 2)
quick=0
[ "${1:-}" = "-q" ] && quick=1

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
sh scripts/install-deps.sh

step "static checks"
sh scripts/check-style.sh

step "Asan build (address+undefined), -Werror"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Asan -DRHUBARB_WERROR=ON >/dev/null
cmake --build build-asan -j "$jobs"
step "ctest under Asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"

if [ "$quick" -eq 0 ]; then
	step "Release build (hardened), -Werror"
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release \
	    -DRHUBARB_WERROR=ON >/dev/null
	cmake --build build-release -j "$jobs"
	step "ctest on the Release build"
	ctest --test-dir build-release --output-on-failure -j "$jobs"
fi

step "fuzzers (clang, libFuzzer), ${RHUBARB_FUZZ_SECONDS:-20}s each"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug \
    -DRHUBARB_FUZZ=ON -DRHUBARB_WERROR=ON \
    -DRHUBARB_FUZZ_SECONDS="${RHUBARB_FUZZ_SECONDS:-20}" >/dev/null
cmake --build build-fuzz -j "$jobs"
ctest --test-dir build-fuzz --output-on-failure -j "$jobs"

step "all tests passed"
