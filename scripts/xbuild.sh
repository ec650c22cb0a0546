#!/usr/bin/env bash
# xbuild.sh TARGET... - builds sonota for other platforms (scripts/xdeps.sh names them) in
# build-x/TARGET and copies the one-file result to out/TARGET/. Prints each binary's path.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ $# -gt 0 ] || { echo "usage: xbuild.sh TARGET..." >&2; exit 2; }

for target in "$@"; do
    cross=$(scripts/xdeps.sh "$target" | tail -n 1)
    [ -f "$cross" ] || { echo "xbuild: no cross file for $target" >&2; exit 1; }
    dir=build-x/$target
    mkdir -p build-x
    # Another dependency build (cross file or .pc files changed) means a new setup.
    stamp=$( { cat "$cross" "$(dirname "$cross")"/lib/pkgconfig/*.pc; ls "$(dirname "$cross")/lib"; } | sha256sum)
    if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$dir/.cross" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$dir"
        meson setup "$dir" --cross-file "$cross" --buildtype=release -Db_lundef=false \
            -Db_staticpic=false >"$top/build-x/$target.setup.log" 2>&1 ||
            { tail -n 30 "$top/build-x/$target.setup.log" >&2; exit 1; }
        echo "$stamp" >"$dir/.cross"
    fi
    ninja -C "$dir" >&2
    exe=sonota
    case "$target" in windows-*) exe=sonota.exe ;; esac
    mkdir -p "out/$target"
    cp "$dir/src/sonota/$exe" "out/$target/$exe"
    strip_tool=$(sed -n "s/^strip = '\(.*\)'$/\1/p" "$cross")
    [ -n "$strip_tool" ] && "$strip_tool" "out/$target/$exe"
    echo "out/$target/$exe"
done
