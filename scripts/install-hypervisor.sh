#!/usr/bin/env bash
# Installs ovn-bgp on a hypervisor (docs/INSTALL.md): the npm package, the systemd unit, the
# ovn-bgp system user, the iproute2 drop-in directories and, only if none exists, a commented
# /etc/ovn-bgp-agent/bgp-agent.conf. It checks (read-only) what the agent needs from the host first.
#
# It never installs, starts, stops, restarts or reconfigures OVS, OVN or FRR (packages or services),
# and it starts the agent only with --enable-now. scripts/setup.sh is the lab/test set-up: it installs
# and stops those services, and must not be run on a hypervisor.
set -euo pipefail

PROG=install-hypervisor.sh
CONF=/etc/ovn-bgp-agent/bgp-agent.conf
UNIT_NAME=ovn-bgp-agent.service
SYSUSERS_NAME=ovn-bgp.conf
AGENT_USER=ovn-bgp
# The PATH systemd gives services: the node the unit's `#!/usr/bin/env node` will find.
SYSTEMD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

usage() {
  cat <<EOF
Usage: $PROG [options] [ovn-bgp-X.Y.Z.tgz]

Installs ovn-bgp on this hypervisor: npm package (npm install -g --omit=dev), systemd unit
$UNIT_NAME, system user $AGENT_USER (member of frrvty), /etc/iproute2/rt_tables.d and
rt_protos.d, and $CONF only if it is missing. Without a tarball, and when run
from a git checkout, the checkout is packed with \`npm pack\` first.

Never installs, starts, stops or restarts OVS, OVN or FRR. Does not start the agent unless
--enable-now is given.

Options:
  --check          only check the host (read-only) and report; change nothing
  --root DIR       write every file under DIR (try it without root): the package goes to
                   DIR/usr/lib/node_modules; systemctl, systemd-sysusers, useradd are skipped
  --unit-dir DIR   where the unit goes (default /etc/systemd/system)
  --enable-now     also run \`systemctl enable --now ovn-bgp-agent\` (refused with --root)
  -h, --help       this help

Exit status: 0 done (or every required check passed with --check), 1 something required is
missing or a step failed, 2 usage error.
EOF
}

die() {
  echo "$PROG: $*" >&2
  exit 1
}
usage_error() {
  echo "$PROG: $*" >&2
  echo "Try '$PROG --help'." >&2
  exit 2
}

CHECK_ONLY=0
ENABLE_NOW=0
ROOT=""
UNIT_DIR=/etc/systemd/system
TARBALL=""
while (($#)); do
  case "$1" in
    --check) CHECK_ONLY=1 ;;
    --enable-now) ENABLE_NOW=1 ;;
    --root)
      (($# >= 2)) || usage_error "--root needs a directory"
      ROOT=$2
      shift
      ;;
    --root=*) ROOT=${1#--root=} ;;
    --unit-dir)
      (($# >= 2)) || usage_error "--unit-dir needs a directory"
      UNIT_DIR=$2
      shift
      ;;
    --unit-dir=*) UNIT_DIR=${1#--unit-dir=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*) usage_error "unknown option: $1" ;;
    *)
      [ -z "$TARBALL" ] || usage_error "only one tarball may be given"
      TARBALL=$1
      ;;
  esac
  shift
done
case "$UNIT_DIR" in /*) ;; *) usage_error "--unit-dir must be an absolute path" ;; esac
if [ -n "$ROOT" ]; then
  ((ENABLE_NOW == 0)) || usage_error "--enable-now cannot be used with --root"
  case "$ROOT" in /*) ;; *) ROOT=$PWD/$ROOT ;; esac
  ROOT=${ROOT%/}
  [ -n "$ROOT" ] || usage_error "--root / is the live system: leave --root out instead"
fi

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname -- "$SCRIPT_DIR")

# ---------------------------------------------------------------------------------------------
# Reading the agent's INI file (read-only), to check what it will use: last value wins, as oslo.

conf_get() { # GROUP KEY -> value, or nothing
  local file=$CONF
  [ -r "$file" ] || return 0
  awk -v want_group="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" -v want_key="$2" '
    { sub(/\r$/, "") }
    /^[ \t]*[#;]/ { next }
    /^[ \t]*\[[^]]+\][ \t]*$/ {
      g = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", g); group = tolower(g); next
    }
    {
      line = $0
      eq = index(line, "="); co = index(line, ":")
      sep = (eq && (!co || eq < co)) ? eq : co
      if (!sep) next
      k = substr(line, 1, sep - 1); v = substr(line, sep + 1)
      gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
      if (group == want_group && k == want_key) val = v
    }
    END { if (val != "") print val }
  ' "$file"
}

# ---------------------------------------------------------------------------------------------
# Checks: one line each. MISSING counts; WARN does not.

MISSING=0
INSTALL_BLOCKERS=0 # missing things without which this script cannot install at all (node, npm)
ok() { printf '  ok       %s\n' "$*"; }
missing() {
  printf '  MISSING  %s\n' "$*"
  MISSING=$((MISSING + 1))
}
warn() { printf '  WARN     %s\n' "$*"; }
note() { printf '  note     %s\n' "$*"; }

version_ge() { # A B: A >= B, dotted numeric versions
  local IFS=.
  local -a a b
  read -r -a a <<<"$1"
  read -r -a b <<<"$2"
  local i
  for i in 0 1 2; do
    local x=${a[i]:-0} y=${b[i]:-0}
    x=${x%%[!0-9]*} y=${y%%[!0-9]*}
    x=${x:-0} y=${y:-0}
    ((10#$x > 10#$y)) && return 0
    ((10#$x < 10#$y)) && return 1
  done
  return 0
}

has() { command -v "$1" >/dev/null 2>&1; }

in_group() { # USER GROUP
  local g
  for g in $(id -nG "$1" 2>/dev/null); do
    [ "$g" = "$2" ] && return 0
  done
  return 1
}

process_running() { # NAME
  if has pgrep; then
    pgrep -x "$1" >/dev/null 2>&1
    return
  fi
  local f
  for f in /proc/[0-9]*/comm; do
    [ "$(cat "$f" 2>/dev/null)" = "$1" ] && return 0
  done
  return 1
}

ovs_get() { # COLUMN:KEY of Open_vSwitch . -> value without quotes, or nothing
  local v
  v=$(ovs-vsctl --timeout=5 --db="$OVSDB" get Open_vSwitch . "$1" 2>/dev/null) || return 0
  v=${v#\"}
  v=${v%\"}
  printf '%s' "$v"
}

check_node() {
  local node v
  node=$(PATH=$SYSTEMD_PATH command -v node 2>/dev/null || true)
  local hint="Debian 13: apt-get install nodejs (20.19 in main); Debian 12 ships nodejs 18: use NodeSource's node_20.x repository or the official tarball from nodejs.org"
  if [ -z "$node" ]; then
    if has node; then
      missing "node: $(command -v node) is not on systemd's PATH ($SYSTEMD_PATH); the unit's '#!/usr/bin/env node' would not find it (e.g. ln -s $(command -v node) /usr/local/bin/node)"
    else
      missing "node >= 20.17 not found (Debian package nodejs). $hint"
    fi
    INSTALL_BLOCKERS=$((INSTALL_BLOCKERS + 1))
    return
  fi
  v=$("$node" -p 'process.versions.node' 2>/dev/null || echo 0)
  if version_ge "$v" 20.17.0; then
    ok "node $v ($node)"
  else
    missing "node >= 20.17 needed, $node is $v (Debian package nodejs). $hint"
    INSTALL_BLOCKERS=$((INSTALL_BLOCKERS + 1))
  fi
}

check_npm() {
  if has npm; then
    ok "npm $(npm --version 2>/dev/null || echo '?') ($(command -v npm)), global prefix $(npm prefix -g 2>/dev/null || echo '?')"
  else
    missing "npm not found (Debian package npm; NodeSource's nodejs includes it)"
    INSTALL_BLOCKERS=$((INSTALL_BLOCKERS + 1))
  fi
}

check_ip() {
  if ! has ip; then
    missing "ip not found (Debian package iproute2)"
    return
  fi
  local out
  out=$(ip -j link show dev lo 2>/dev/null || true)
  if [ "${out:0:1}" = "[" ]; then
    ok "ip with JSON output ($(ip -V 2>/dev/null | head -n1))"
  else
    missing "ip has no JSON output (ip -j); the agent parses it: upgrade iproute2 (Debian package iproute2)"
  fi
}

check_ovs() {
  if has ovs-vsctl; then ok "ovs-vsctl ($(command -v ovs-vsctl))"; else missing "ovs-vsctl not found (Debian package openvswitch-switch)"; fi
  if has ovs-ofctl; then ok "ovs-ofctl ($(command -v ovs-ofctl))"; else missing "ovs-ofctl not found (Debian package openvswitch-common, installed with openvswitch-switch)"; fi

  local conn
  conn=$(conf_get DEFAULT ovsdb_connection)
  OVSDB=${conn:-unix:/var/run/openvswitch/db.sock}
  OVS_READABLE=0
  case "$OVSDB" in
    unix:*)
      local sock=${OVSDB#unix:}
      if [ -S "$sock" ]; then
        ok "local OVSDB socket $sock"
        OVS_READABLE=1
        local owner
        owner=$(stat -c %U:%G "$sock" 2>/dev/null || echo '?')
        if [ "${owner%%:*}" != root ]; then
          note "OVS runs as $owner ($sock): CAP_DAC_OVERRIDE can be dropped with a drop-in (docs/INSTALL.md)"
        fi
      else
        missing "local OVSDB socket $sock not found: ovsdb-server is not running (Debian package openvswitch-switch; this script never starts it)"
      fi
      ;;
    *)
      ok "ovsdb_connection = $OVSDB (not a unix socket: not checked)"
      OVS_READABLE=1
      ;;
  esac
  if process_running ovn-controller; then
    ok "ovn-controller running"
  else
    missing "ovn-controller is not running (Debian package ovn-host; this script never starts it)"
  fi
  if ((OVS_READABLE)) && has ovs-vsctl && ! ovs-vsctl --timeout=5 --db="$OVSDB" get Open_vSwitch . external_ids >/dev/null 2>&1; then
    OVS_READABLE=0
    if [ "$(id -u)" -ne 0 ]; then
      warn "cannot read Open_vSwitch external_ids through $OVSDB as $(id -un): run as root for the OVN checks"
      return 0
    fi
    missing "cannot read Open_vSwitch external_ids through $OVSDB (ovs-vsctl get failed; Debian package openvswitch-switch)"
  fi
  if ((OVS_READABLE == 0)); then
    note "external_ids system-id, ovn-remote, ovn-bridge-mappings not checked: the local OVSDB cannot be read"
    return 0
  fi

  local chassis remote mappings
  chassis=$(conf_get ovn chassis_name)
  if [ -n "$chassis" ]; then
    ok "chassis name $chassis ([ovn] chassis_name in $CONF)"
  else
    chassis=$(ovs_get external_ids:system-id)
    if [ -n "$chassis" ]; then ok "external_ids:system-id = $chassis"; else missing "Open_vSwitch external_ids:system-id is not set (the chassis name; set by your OVN deployment, ovn-host) and [ovn] chassis_name is not in $CONF"; fi
  fi
  remote=$(conf_get ovn ovn_sb_connection)
  [ -n "$remote" ] || remote=$(conf_get DEFAULT ovn_sb_connection)
  if [ -n "$remote" ]; then
    ok "Southbound $remote (ovn_sb_connection in $CONF)"
  else
    remote=$(ovs_get external_ids:ovn-remote)
    if [ -n "$remote" ]; then ok "external_ids:ovn-remote = $remote"; else missing "Open_vSwitch external_ids:ovn-remote is not set (set by your OVN deployment, ovn-host) and [ovn] ovn_sb_connection is not in $CONF"; fi
  fi
  mappings=$(ovs_get external_ids:ovn-bridge-mappings)
  if [ -n "$mappings" ]; then ok "external_ids:ovn-bridge-mappings = $mappings"; else warn "external_ids:ovn-bridge-mappings is empty: no provider bridge, nothing to expose"; fi
}

check_frr() {
  if has vtysh; then ok "vtysh ($(command -v vtysh))"; else missing "vtysh not found (Debian package frr)"; fi
  local dir
  dir=$(conf_get DEFAULT frr_vty_socket_dir)
  dir=${dir:-/run/frr}
  local d
  for d in zebra bgpd; do
    if [ -S "$dir/$d.vty" ]; then ok "$dir/$d.vty"; else missing "$dir/$d.vty not found: FRR's $d is not running (Debian package frr; this script never starts or restarts it)"; fi
  done
  if [ -r /etc/frr/daemons ]; then
    if grep -Eq '^[[:space:]]*bgpd[[:space:]]*=[[:space:]]*yes[[:space:]]*$' /etc/frr/daemons; then
      ok "bgpd=yes in /etc/frr/daemons"
    else
      missing "bgpd=yes not set in /etc/frr/daemons (Debian package frr; set it and restart frr yourself, with your BGP peers configured)"
    fi
  else
    missing "/etc/frr/daemons not readable (Debian package frr)"
  fi
  if getent group frrvty >/dev/null 2>&1; then
    ok "group frrvty (the unit's SupplementaryGroups=frrvty)"
  else
    missing "group frrvty does not exist: the unit cannot start without it (Debian package frr creates it)"
  fi
}

check_system_tools() {
  if has setpriv; then ok "setpriv ($(command -v setpriv))"; else missing "setpriv not found (Debian package util-linux)"; fi
  if has systemd-notify; then ok "systemd-notify ($(command -v systemd-notify))"; else missing "systemd-notify not found: the unit is Type=notify (Debian package systemd)"; fi
  if [ -d /run/systemd/system ]; then ok "systemd is the init system"; else warn "/run/systemd/system missing: systemd is not running here; the unit will not be used"; fi
}

kernel_module_available() { # NAME
  [ -d "/sys/module/$1" ] && return 0
  has modinfo && modinfo "$1" >/dev/null 2>&1 && return 0
  grep -qs "/$1.ko" "/lib/modules/$(uname -r)/modules.builtin" && return 0
  return 1
}

check_kernel() {
  local via
  via=$(conf_get DEFAULT announce_via)
  via=${via:-vrf}
  if [ "$via" != vrf ]; then
    ok "announce_via = $via: VRF and dummy devices not needed"
    return
  fi
  local m
  for m in vrf dummy; do
    if kernel_module_available "$m"; then
      ok "kernel module $m available"
    else
      warn "kernel module $m not found (modinfo $m): announce_via = vrf (the default) needs it; set announce_via = table in $CONF otherwise"
    fi
  done
}

# The Python agent (under the same unit name, or in a container): it and ovn-bgp must not run together.
check_python_agent() {
  local flagged=0
  if has systemctl && [ -d /run/systemd/system ]; then
    local state exec_start
    state=$(systemctl show -p ActiveState --value "$UNIT_NAME" 2>/dev/null || true)
    exec_start=$(systemctl show -p ExecStart --value "$UNIT_NAME" 2>/dev/null || true)
    case "$state" in
      active | activating | reloading)
        case "$exec_start" in
          *ovn-bgp\ agent*) ok "$UNIT_NAME is ovn-bgp and $state (an upgrade: restart it afterwards to run the new version)" ;;
          *)
            missing "$UNIT_NAME is $state and is not ovn-bgp (the Python ovn-bgp-agent?): stop and disable it first (docs/MIGRATION.md)"
            flagged=1
            ;;
        esac
        ;;
    esac
  fi
  if ((flagged == 0)) && process_running ovn-bgp-agent; then
    missing "a process named ovn-bgp-agent runs (the Python agent, perhaps in a container): stop it first (docs/MIGRATION.md)"
  fi
}

# Drop-ins for the unit name (a Python agent's deployment may have left some) apply to ovn-bgp too.
check_dropins() { # PREFIX
  local d f found=()
  for d in /etc/systemd/system /run/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
    for f in "$1$d/$UNIT_NAME.d"/*.conf; do
      [ -e "$f" ] && found+=("$f")
    done
  done
  if ((${#found[@]})); then
    warn "drop-ins for $UNIT_NAME apply to ovn-bgp's unit too, check them (systemctl cat ovn-bgp-agent): ${found[*]}"
  fi
  return 0
}

run_checks() {
  echo "Checking this host (read-only):"
  check_node
  check_npm
  check_ip
  check_ovs
  check_frr
  check_system_tools
  check_kernel
  check_python_agent
  check_dropins ""
}

# ---------------------------------------------------------------------------------------------
# Install steps.

TMP=""
cleanup() { [ -z "$TMP" ] || rm -rf -- "$TMP"; }
trap cleanup EXIT

step() { echo "- $*"; }

is_checkout() { [ -f "$SRC_DIR/package.json" ] && [ -d "$SRC_DIR/src" ] && [ -f "$SRC_DIR/tsconfig.build.json" ]; }

resolve_tarball() {
  if [ -n "$TARBALL" ]; then
    [ -f "$TARBALL" ] || die "no such file: $TARBALL"
    case "$TARBALL" in *.tgz | *.tar.gz) ;; *) die "expected an npm tarball (ovn-bgp-X.Y.Z.tgz), got $TARBALL" ;; esac
    TARBALL=$(cd -- "$(dirname -- "$TARBALL")" && pwd)/$(basename -- "$TARBALL")
    return
  fi
  is_checkout || die "no tarball given and $SRC_DIR is not a git checkout of ovn-bgp: give the ovn-bgp-X.Y.Z.tgz to install"
  [ -x "$SRC_DIR/node_modules/.bin/tsc" ] || die "packing the checkout needs its dev dependencies (npm install in $SRC_DIR); or build the tarball elsewhere with npm pack and give it here"
  TMP=${TMP:-$(mktemp -d "${TMPDIR:-/tmp}/ovn-bgp-install.XXXXXX")}
  step "packing $SRC_DIR (npm pack: builds dist/ first)"
  (cd -- "$SRC_DIR" && npm pack --pack-destination "$TMP" --loglevel=error >/dev/null) || die "npm pack failed in $SRC_DIR"
  local found=("$TMP"/ovn-bgp-*.tgz)
  [ -f "${found[0]}" ] || die "npm pack produced no ovn-bgp-*.tgz in $TMP"
  TARBALL=${found[0]}
}

install_package() {
  local npm_flags=(--omit=dev --no-audit --no-fund --loglevel=error)
  if [ -n "$ROOT" ]; then
    step "npm install -g --prefix $ROOT/usr $(basename -- "$TARBALL")"
    npm install -g --prefix "$ROOT/usr" "${npm_flags[@]}" "$TARBALL" >/dev/null || die "npm install failed"
    PKG_DIR=$ROOT/usr/lib/node_modules/ovn-bgp
    BIN_ON_HOST=/usr/bin/ovn-bgp
    [ -e "$ROOT/usr/bin/ovn-bgp" ] || die "npm put no ovn-bgp command in $ROOT/usr/bin"
  else
    step "npm install -g --omit=dev $(basename -- "$TARBALL")"
    npm install -g "${npm_flags[@]}" "$TARBALL" >/dev/null || die "npm install failed"
    PKG_DIR=$(npm root -g)/ovn-bgp
    BIN_ON_HOST=$(npm prefix -g)/bin/ovn-bgp
    [ -e "$BIN_ON_HOST" ] || die "npm put no ovn-bgp command at $BIN_ON_HOST"
  fi
  [ -f "$PKG_DIR/packaging/systemd/ovn-bgp-agent.service" ] || die "$PKG_DIR has no packaging/systemd/ovn-bgp-agent.service: this tarball predates the hypervisor install"
  local node version
  node=$(PATH=$SYSTEMD_PATH command -v node)
  version=$("$node" -p "require(process.argv[1]).version" "$PKG_DIR/package.json")
  "$node" "$PKG_DIR/bin/ovn-bgp.js" --help >/dev/null 2>&1 || die "the installed ovn-bgp does not run: $node $PKG_DIR/bin/ovn-bgp.js --help failed"
  echo "  ovn-bgp $version in $PKG_DIR, command $BIN_ON_HOST"
}

install_unit() {
  local src=$PKG_DIR/packaging/systemd/ovn-bgp-agent.service
  local dir=$ROOT$UNIT_DIR
  local dest=$dir/$UNIT_NAME
  case "$BIN_ON_HOST" in /*) ;; *) die "unexpected command path $BIN_ON_HOST" ;; esac
  [[ "$BIN_ON_HOST" =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "command path $BIN_ON_HOST has characters a unit line cannot carry"
  mkdir -p -- "$dir"
  local new=$dir/.$UNIT_NAME.new
  # The shipped unit runs /usr/bin/ovn-bgp; npm's global prefix decides where the command really is.
  sed "s#^ExecStart=/usr/bin/ovn-bgp #ExecStart=$BIN_ON_HOST #" "$src" >"$new"
  chmod 0644 "$new"
  if [ -L "$dest" ]; then
    local target
    target=$(readlink -- "$dest")
    if [ "$target" = /dev/null ]; then
      step "$dest was masked (a symlink to /dev/null, as a removed package leaves it): replacing it"
    else
      step "$dest was a symlink to $target: replacing it"
    fi
    rm -f -- "$dest"
  elif [ -f "$dest" ] && ! grep -q '^ExecStart=.*ovn-bgp agent' "$dest"; then
    local keep
    keep=$dest.orig-$(date +%Y%m%d%H%M%S)
    step "$dest is not ovn-bgp's unit: kept as $keep"
    mv -- "$dest" "$keep"
  fi
  if [ -f "$dest" ] && cmp -s "$new" "$dest"; then
    rm -f -- "$new"
    step "unit $dest unchanged"
  else
    mv -- "$new" "$dest"
    step "unit $dest (ExecStart=$BIN_ON_HOST agent …)"
  fi
  [ -z "$ROOT" ] || check_dropins "$ROOT"
}

install_user() {
  local dir=$ROOT/usr/lib/sysusers.d
  mkdir -p -- "$dir"
  install -m 0644 "$PKG_DIR/packaging/systemd/ovn-bgp.sysusers" "$dir/$SYSUSERS_NAME"
  step "sysusers file $dir/$SYSUSERS_NAME"
  if [ -n "$ROOT" ]; then
    step "skipped with --root: systemd-sysusers / useradd (user $AGENT_USER, member of frrvty)"
    return
  fi
  if has systemd-sysusers; then
    systemd-sysusers "$dir/$SYSUSERS_NAME" || die "systemd-sysusers $dir/$SYSUSERS_NAME failed"
  else
    if ! getent passwd "$AGENT_USER" >/dev/null; then
      useradd --system --user-group --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin --comment "ovn-bgp agent" "$AGENT_USER" || die "useradd $AGENT_USER failed"
    fi
    if ! in_group "$AGENT_USER" frrvty; then
      usermod -aG frrvty "$AGENT_USER" || die "usermod -aG frrvty $AGENT_USER failed"
    fi
  fi
  getent passwd "$AGENT_USER" >/dev/null || die "user $AGENT_USER was not created"
  in_group "$AGENT_USER" frrvty || die "user $AGENT_USER is not in group frrvty"
  step "user $AGENT_USER ($(id "$AGENT_USER"))"
}

install_dirs() {
  local d
  for d in /etc/iproute2/rt_tables.d /etc/iproute2/rt_protos.d; do
    if [ -d "$ROOT$d" ]; then
      step "$ROOT$d exists"
    else
      install -d -m 0755 "$ROOT$d"
      step "created $ROOT$d (the unit's ReadWritePaths: table and protocol names)"
    fi
  done
}

example_config() {
  cat <<'EOF'
# ovn-bgp configuration, written by install-hypervisor.sh because none existed.
# Option names are upstream ovn-bgp-agent's: its bgp-agent.conf can replace this file unchanged.
# Every option is commented out, so the built-in default (the value shown) applies until you set it.
# Check a change with `ovn-bgp config --sources`; apply it with `systemctl reload ovn-bgp-agent`.

[DEFAULT]
# The AS of the `router bgp` you configured in FRR with your peers: it must be the same number.
#bgp_AS = 64999
# Router id of the agent's `router bgp AS vrf bgp-vrf`; unset: no router-id line (FRR picks one).
#bgp_router_id = 192.0.2.1
# Also expose tenant networks behind router gateway ports (cr-lrp) bound to this chassis.
#expose_tenant_networks = False
#expose_ipv6_gua_tenant_networks = False
# vrf: exposed IPs go on the dummy bgp_nic in VRF bgp_vrf (table bgp_vrf_table_id), as upstream;
# table: host routes in table bgp_vrf_table_id that FRR imports (kernels without vrf/dummy modules).
#announce_via = vrf
#bgp_nic = bgp-nic
#bgp_vrf = bgp-vrf
#bgp_vrf_table_id = 10
# Upstream's Southbound driver and underlay method are the only ones here; other values are refused.
#driver = ovn_bgp_driver
#exposing_method = underlay
# Seconds between full passes.
#reconcile_interval = 300
# per-ip: one ip rule per exposed IP or subnet (upstream's); per-bridge: one rule per bridge table.
#ip_rule_layout = per-ip
#ip_rule_priority = 32000
# Provider bridge i (in ovn-bridge-mappings order) gets routing table bridge_table_base + i.
#bridge_table_base = 200
# Cookie of the br-ex MAC-rewrite flows (999 as upstream: its flows are taken over).
#flow_cookie = 999
# Prometheus /metrics, /livez, /readyz; empty disables.
#metrics_listen = 127.0.0.1:9797
#debug = False

[ovn]
# Southbound DB remotes, comma-separated for a cluster; unset: Open_vSwitch external_ids:ovn-remote.
#ovn_sb_connection = ssl:192.0.2.10:6642,ssl:192.0.2.11:6642,ssl:192.0.2.12:6642
# For ssl: remotes; unset: these upstream defaults. The files must be readable by user ovn-bgp.
#ovn_sb_private_key = /etc/pki/tls/private/ovn_bgp_agent.key
#ovn_sb_certificate = /etc/pki/tls/certs/ovn_bgp_agent.crt
#ovn_sb_ca_cert = /etc/ipa/ca.crt
# Chassis name; unset: Open_vSwitch external_ids:system-id.
#chassis_name = compute-1
EOF
}

install_config() {
  local dir=$ROOT${CONF%/*}
  local file=$ROOT$CONF
  if [ ! -d "$dir" ]; then
    install -d -m 0750 "$dir"
    [ -n "$ROOT" ] || chgrp "$AGENT_USER" "$dir"
    step "created $dir"
  fi
  if [ -e "$file" ]; then
    step "$file exists: left as it is"
  else
    local new=$dir/.bgp-agent.conf.new
    example_config >"$new"
    chmod 0640 "$new"
    [ -n "$ROOT" ] || chgrp "$AGENT_USER" "$new"
    mv -- "$new" "$file"
    step "created $file (commented example; every default applies until you edit it)"
  fi
  if [ -z "$ROOT" ] && ! setpriv --reuid="$AGENT_USER" --regid="$AGENT_USER" --init-groups test -r "$file"; then
    warn "user $AGENT_USER cannot read $file: chgrp $AGENT_USER $file && chmod g+r $file (and g+x on its directory)"
  fi
  # The configuration check the agent itself makes (`ovn-bgp config` reads nothing but the file).
  local node out rc=0
  node=$(PATH=$SYSTEMD_PATH command -v node)
  out=$("$node" "$PKG_DIR/bin/ovn-bgp.js" config --config-file "$file" 2>&1 >/dev/null) || rc=$?
  if ((rc == 0)); then
    step "configuration $file is valid${out:+ (with warnings:)}"
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
  else
    printf '%s\n' "$out" | sed 's/^/    /'
    CONFIG_INVALID=1
    warn "configuration $file is invalid (ovn-bgp config exited $rc): the agent would refuse to start"
  fi
}

# ---------------------------------------------------------------------------------------------

CONFIG_INVALID=0
OVSDB=unix:/var/run/openvswitch/db.sock

if ((CHECK_ONLY == 0)) && [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  die "installing needs root (or --root DIR to try it in a scratch directory, or --check)"
fi

run_checks
echo

if ((CHECK_ONLY)); then
  if ((MISSING)); then
    echo "$MISSING required item(s) MISSING (see above)."
    exit 1
  fi
  echo "Every required item is present."
  exit 0
fi

if ((MISSING)); then
  if [ -n "$ROOT" ] && ((INSTALL_BLOCKERS == 0)); then
    echo "$MISSING required item(s) MISSING on this host; going on because --root only writes under $ROOT."
  else
    echo "$MISSING required item(s) MISSING (see above): nothing was installed." >&2
    exit 1
  fi
fi

echo "Installing${ROOT:+ under $ROOT}:"
if [ -n "$ROOT" ]; then
  mkdir -p -- "$ROOT" || die "cannot create --root $ROOT"
  [ "$(cd -- "$ROOT" && pwd -P)" != / ] || die "--root $ROOT is the live system: leave --root out instead"
fi
resolve_tarball
install_package
install_unit
install_user
install_dirs
install_config

if [ -n "$ROOT" ]; then
  step "skipped with --root: systemctl daemon-reload"
elif [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  step "systemctl daemon-reload"
else
  step "systemd is not running here: systemctl daemon-reload skipped"
fi

if ((ENABLE_NOW)); then
  ((CONFIG_INVALID == 0)) || die "not enabling $UNIT_NAME: the configuration is invalid (see above)"
  systemctl enable --now "$UNIT_NAME"
  step "systemctl enable --now $UNIT_NAME"
fi

metrics=$(conf_get DEFAULT metrics_listen)
metrics=${metrics:-127.0.0.1:9797}
echo
echo "Done. Next steps:"
if [ -n "$ROOT" ]; then
  echo "  (a trial under $ROOT: nothing on this host was changed)"
fi
cat <<EOF
  1. Edit $CONF: bgp_AS must be the AS of the router bgp you configured in FRR.
     Check it with: ovn-bgp config --sources
  2. See what the agent would change, before it runs: ovn-bgp plan --diff
  3. Start it:   systemctl enable --now ovn-bgp-agent
     (an upgrade of a running agent: systemctl restart ovn-bgp-agent)
  4. Verify:     systemctl status ovn-bgp-agent; ovn-bgp status
                 journalctl -u ovn-bgp-agent -p warning; curl -s http://$metrics/readyz
Moving from the Python ovn-bgp-agent: docs/MIGRATION.md (in $PKG_DIR/docs).
EOF
