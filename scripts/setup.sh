#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (as root): the daemons the agent and its tests
# drive, the npm dependencies, the build, and `ovn-bgp` on the PATH. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# debootstrap: scripts/setup-platform.sh builds the second test platform's root with it.
debs=(openvswitch-switch ovn-central ovn-host frr frr-pythontools iproute2 iputils-ping openssl procps user-mode-linux debootstrap)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "setup: need root for apt-get" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts no service here; stop any that a package install started so tests own their daemons.
for svc in openvswitch-switch ovn-central ovn-host frr; do
  systemctl is-active --quiet "$svc" 2>/dev/null && systemctl stop "$svc" 2>/dev/null || true
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  # `npm install`, not `npm ci`: the npm 11 here records only this platform's optional packages
  # (biome's per-OS binaries) in the lock file and then refuses it in `npm ci` as out of sync.
  npm install --no-audit --no-fund --loglevel=error
fi
echo "setup: building"
npx --no-install tsc -p tsconfig.build.json
# Put `ovn-bgp` on the PATH (a symlink into this checkout).
if ! command -v ovn-bgp >/dev/null 2>&1 || [ "$(readlink -f "$(command -v ovn-bgp)")" != "$(readlink -f bin/ovn-bgp.js)" ]; then
  npm link --no-audit --no-fund --loglevel=error >/dev/null
fi
echo "setup: ok ($(command -v ovn-bgp))"
