#!/usr/bin/env bash
# dist.sh TARGET... - one downloadable file per platform in dist/, with SHA256SUMS and a
# short README.txt saying how to run it on each OS.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" meson.build)
[ -n "$version" ] || { echo "dist: no version in meson.build" >&2; exit 1; }
rm -rf dist && mkdir -p dist
for target in "$@"; do
    exe=$(scripts/xbuild.sh "$target" | tail -n 1)
    case "$target" in
    windows-*) name=sonota-$version-$target.exe ;;
    *)         name=sonota-$version-$target ;;
    esac
    cp "$exe" "dist/$name"
    chmod 755 "dist/$name"
done
cat >dist/README.txt <<EOF
sonota $version - put open firmware on Sonoff switches over WiFi, no serial adapter.

Pick the file for your machine, check it against SHA256SUMS, and run it from a terminal:

  Windows 10/11 (x86_64)   sonota-$version-windows-x86_64.exe
      PowerShell:  .\\sonota-$version-windows-x86_64.exe flash --firmware-dir fw --wifi-ssid MyHomeWifi
      When Windows asks whether sonota may use the network, allow it for Private
      networks, and make sure the WiFi you connect to is set to Private: on a Public
      network Windows drops the device's connections (the FinalStage hang).

  macOS 11+ (Apple silicon) sonota-$version-macos-arm64
  macOS 11+ (Intel)         sonota-$version-macos-x86_64
      chmod +x sonota-*-macos-*; xattr -d com.apple.quarantine sonota-*-macos-*
      ./sonota-$version-macos-arm64 flash --firmware-dir fw --wifi-ssid MyHomeWifi
      Allow incoming connections when macOS asks (System Settings > Network > Firewall).
      Built for macOS, not yet run on a Mac: see "macOS" in the README before you start.

  Linux x86_64              sonota-$version-linux-x86_64
  Raspberry Pi OS 64-bit    sonota-$version-linux-aarch64
  Raspberry Pi OS 32-bit    sonota-$version-linux-armhf   (ARMv7: Pi 2 and later)
      chmod +x sonota-*-linux-*
      sudo ./sonota-$version-linux-aarch64 flash --firmware-dir fw --wifi-ssid MyHomeWifi
      Static binaries: any distribution, nothing to install (root only to listen on
      port 443). If a local firewall (nftables, iptables) drops the device, sonota says so.

fw/ holds the images under SonOTA's names (image_user1-0x01000.bin,
image_user2-0x81000.bin, image_arduino.bin); "sonota image info fw/*.bin" checks them.
Then follow the prompts: join the ITEAD-... WiFi, enter your WiFi name and password,
reconnect when asked. sonota --help lists everything; sonota flash --help the options.
EOF
(cd dist && sha256sum -- * >SHA256SUMS)
ls -l dist
