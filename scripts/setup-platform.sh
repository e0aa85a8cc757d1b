#!/usr/bin/env bash
# Builds, once, the root file system of a second platform whose daemons the tests and the lab can
# run instead of the host's: `trixie` = Debian 13 (OVN 25.03, FRR 10.3, OVS 3.5). Idempotent: a
# root that is complete (its stamp names the same package list) is reused as it is.
#   bash scripts/setup-platform.sh trixie        # builds /var/lib/ovn-bgp/platforms/trixie
# The root is never used as a system: daemons run from it through scripts/platform-exec, in a
# private mount namespace that sees the host's /tmp, /run, /dev, /proc, /sys and /etc/frr.
# Next to the root it (re)writes two small things each run: a copy of platform-exec, and
# $base/$platform.bin/, one wrapper per OVS/OVN/FRR tool; put first on the PATH, every
# `ovs-vsctl`, `ovn-nbctl`, `vtysh`, … then runs the platform's own (docs/PLATFORMS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

platform="${1:-trixie}"
case "$platform" in
  trixie) ;;
  bookworm) echo "setup-platform: bookworm is the host's own packages (scripts/setup.sh)"; exit 0 ;;
  *) echo "setup-platform: unknown platform '$platform' (known: bookworm, trixie)" >&2; exit 2 ;;
esac
base="${OVN_BGP_PLATFORM_DIR:-/var/lib/ovn-bgp/platforms}"
root="$base/$platform"
mirror="${OVN_BGP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# frr-pythontools: frr-reload.py, which the fault drills run as an operator would.
pkgs=(iproute2 frr frr-pythontools openvswitch-switch openvswitch-common ovn-central ovn-host ovn-common)
stamp="$root/.ovn-bgp-platform"
want="packages=${pkgs[*]}"

tools=(ovs-vsctl ovs-ofctl ovs-appctl ovs-dpctl ovsdb-server ovsdb-tool ovsdb-client ovs-vswitchd
  ovn-nbctl ovn-sbctl ovn-northd ovn-controller ovn-appctl ovn-trace vtysh)
write_wrappers() {
  install -m 0755 scripts/platform-exec "$base/platform-exec"
  local bin="$base/$platform.bin"
  rm -rf "$bin.new"; mkdir -p "$bin.new"
  for t in "${tools[@]}"; do
    printf '#!/bin/sh\nexec %s %s %s "$@"\n' "$base/platform-exec" "$platform" "$t" >"$bin.new/$t"
    chmod 0755 "$bin.new/$t"
  done
  rm -rf "$bin"; mv "$bin.new" "$bin"
}

if [ -f "$stamp" ] && grep -qxF "$want" "$stamp"; then
  [ "$(id -u)" -eq 0 ] && write_wrappers
  echo "setup-platform: $platform root ready at $root ($(grep '^versions=' "$stamp" | cut -d= -f2-))"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then echo "setup-platform: need root (debootstrap, chroot)" >&2; exit 1; fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "setup-platform: installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# Build next to the final place and move it in only when complete: an interrupted run leaves no
# half-built root that a later run could take for a good one.
tmp="$root.building"
rm -rf "$tmp"
mkdir -p "$base"
echo "setup-platform: downloading Debian $platform (minbase, about 40 MB) from $mirror into $tmp"
debootstrap --variant=minbase "$platform" "$tmp" "$mirror" >"$base/$platform.debootstrap.log" 2>&1 || {
  echo "setup-platform: debootstrap failed, see $base/$platform.debootstrap.log" >&2; tail -5 "$base/$platform.debootstrap.log" >&2; exit 1; }
# No service may start inside the root: packages' postinst scripts ask policy-rc.d first.
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"; chmod +x "$tmp/usr/sbin/policy-rc.d"
echo "setup-platform: installing ${pkgs[*]} into the $platform root (about 120 MB of packages)"
unshare --mount --propagation private sh -c '
  set -e
  mount -t proc proc "$1/proc"
  DEBIAN_FRONTEND=noninteractive chroot "$1" apt-get install -y -qq --no-install-recommends $2
' sh "$tmp" "${pkgs[*]}" >"$base/$platform.apt.log" 2>&1 || {
  echo "setup-platform: apt-get in the root failed, see $base/$platform.apt.log" >&2; tail -5 "$base/$platform.apt.log" >&2; exit 1; }
chroot "$tmp" apt-get clean
versions="$(chroot "$tmp" dpkg-query -W -f='${Package}=${Version} ' ovn-central openvswitch-switch frr | sed 's/ $//')"
printf '%s\nversions=%s\n' "$want" "$versions" >"$tmp/.ovn-bgp-platform"
rm -rf "$root"
mv "$tmp" "$root"
write_wrappers
echo "setup-platform: $platform root ready at $root ($versions)"
