#!/usr/bin/env bash
# Installs the Debian packages sonota needs, only those that are missing.
# Used by `make demo` and `make check`; safe to run again. With arguments, installs those
# packages instead (the cross builds' toolchains and runners: scripts/xdeps.sh).
set -eu
default="meson ninja-build pkg-config gcc clang libclang-rt-14-dev libssl-dev openssl
libwebsockets-dev libwebsockets-evlib-ev libev-dev libcurl4-openssl-dev libcjson-dev
libcmocka-dev iproute2 binutils-xtensa-lx106 valgrind curl python3 libmdnsd-dev nftables strace"
need=${*:-$default}
missing=""
for p in $need; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "sonota: installing missing packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "sonota: run as root or install sudo" >&2; exit 1; }
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing
