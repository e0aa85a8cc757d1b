import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type LoadedConfig, loadConfig } from "../../../src/config/load.ts";
import { colonsToEquals, parseIniLayer } from "../../../src/config/sources.ts";

const scratch = mkdtempSync(join(tmpdir(), "ovn-bgp-upstream-compat-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
function loadIni(body: string): LoadedConfig {
  counter += 1;
  const path = join(scratch, `case-${counter}.conf`);
  writeFileSync(path, body);
  return loadConfig({ configFiles: [path] });
}

function entries(text: string): Array<[string, string, unknown]> {
  return parseIniLayer(text, "x.conf").entries.map((e) => [e.group, e.key, e.value]);
}

describe("INI `key: value` lines (oslo.config splits at the first '=' or ':')", () => {
  test("a colon before any '=' separates key and value; the value keeps its own colons", () => {
    assert.deepEqual(
      entries(
        [
          "[DEFAULT]",
          "bgp_AS: 65000",
          "bgp_nic:eth9",
          "  bgp_vrf   :   vrf-x  ",
          "[ovn]",
          "ovn_sb_connection: tcp:1.2.3.4:6642",
          "chassis_name: a=b",
        ].join("\n"),
      ),
      [
        ["DEFAULT", "bgp_AS", "65000"],
        ["DEFAULT", "bgp_nic", "eth9"],
        ["DEFAULT", "bgp_vrf", "vrf-x"],
        ["ovn", "ovn_sb_connection", "tcp:1.2.3.4:6642"],
        ["ovn", "chassis_name", "a=b"],
      ],
    );
  });

  test("an '=' before any colon stays the separator (colons in the value are kept)", () => {
    assert.deepEqual(entries("[ovn]\novn_sb_connection = tcp:1.2.3.4:6642\novn_sb_private_key=/a:b\n"), [
      ["ovn", "ovn_sb_connection", "tcp:1.2.3.4:6642"],
      ["ovn", "ovn_sb_private_key", "/a:b"],
    ]);
  });

  test("comments, blank lines and section headers are not rewritten; CRLF files work", () => {
    const text = "# note: a comment\r\n; other: comment\r\n\r\n[DEFAULT]\r\nbgp_AS: 65001\r\n";
    assert.equal(
      colonsToEquals(text),
      "# note: a comment\r\n; other: comment\r\n\r\n[DEFAULT]\r\nbgp_AS= 65001\r\n",
    );
    assert.deepEqual(entries(text), [["DEFAULT", "bgp_AS", "65001"]]);
    assert.equal(colonsToEquals("[a:b]\n"), "[a:b]\n");
  });

  test("a line with nothing before the colon is not turned into an empty key (it is reported)", () => {
    assert.equal(colonsToEquals(": x"), ": x");
    const { warnings } = loadIni("[DEFAULT]\n: x\n");
    assert.equal(warnings[0]?.code, "unknown-option");
  });

  test("a whole file in colon style loads like its '=' twin", () => {
    const colon = loadIni(
      "[DEFAULT]\nbgp_AS: 65010\nexpose_tenant_networks: True\naddress_scopes: a, b\n[ovn]\novn_sb_connection: ssl:10.0.0.1:6642,ssl:10.0.0.2:6642\n",
    );
    const equals = loadIni(
      "[DEFAULT]\nbgp_AS = 65010\nexpose_tenant_networks = True\naddress_scopes = a, b\n[ovn]\novn_sb_connection = ssl:10.0.0.1:6642,ssl:10.0.0.2:6642\n",
    );
    assert.deepEqual(colon.warnings, []);
    assert.deepEqual(colon.config, equals.config);
    assert.equal(colon.config.bgp_AS, 65010);
    assert.equal(colon.config.ovn.ovn_sb_connection, "ssl:10.0.0.1:6642,ssl:10.0.0.2:6642");
  });
});

/** Every option upstream's config.py registers (or registered), at its upstream default or a valid value. */
const UPSTREAM_FILE = `[DEFAULT]
debug = False
reconcile_interval = 300
frr_reconcile_interval = 15
expose_tenant_networks = False
expose_ipv6_gua_tenant_networks = False
require_snat_disabled_for_tenant_networks = False
advertisement_method_tenant_networks = host
driver = ovn_bgp_driver
exposing_method = underlay
ovsdb_connection = unix:/usr/local/var/run/openvswitch/db.sock
ovsdb_connection_timeout = 180
bgp_AS = 64999
bgp_router_id = 10.0.0.1
evpn_local_ip = 10.0.0.2
evpn_nic = lo
evpn_udp_dstport = 4789
clear_vrf_routes_on_startup = False
delete_vrf_on_disconnect = True
bgp_nic = bgp-nic
bgp_vrf = bgp-vrf
bgp_vrf_table_id = 10
address_scopes =

[agent]
root_helper = sudo
root_helper_daemon = sudo ovn-bgp-agent-rootwrap-daemon /etc/ovn-bgp-agent/rootwrap.conf
use_helper_for_ns_read = True

[ovn]
ovn_sb_connection = tcp:172.17.0.30:6642
ovn_sb_private_key = /etc/pki/tls/private/ovn_bgp_agent.key
ovn_sb_certificate = /etc/pki/tls/certs/ovn_bgp_agent.crt
ovn_sb_ca_cert = /etc/ipa/ca.crt
ovn_nb_connection = tcp:172.17.0.30:6641
ovn_nb_private_key = /etc/pki/tls/private/ovn_bgp_agent.key
ovn_nb_certificate = /etc/pki/tls/certs/ovn_bgp_agent.crt
ovn_nb_ca_cert = /etc/ipa/ca.crt

[local_ovn_cluster]
ovn_nb_connection = unix:/var/run/ovn/ovnnb_db.sock
external_nics = eth1
peer_ips = 10.0.0.254
provider_networks_pool_prefixes = 192.168.0.0/16
bgp_chassis_id = bgp

[oslo_concurrency]
lock_path = /var/lib/ovn-bgp-agent/lock

[privsep]
helper_command = sudo privsep-helper
[privsep_ovs_vsctl]
user = root
[privsep_vtysh]
thread_pool_size = 4
`;

describe("upstream option names", () => {
  test("a file with every upstream option: no unknown options, one 'not implemented' warning", () => {
    const { warnings, config } = loadIni(UPSTREAM_FILE);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ["unsupported-option"],
    );
    assert.deepEqual(warnings[0]?.options, [
      "frr_reconcile_interval",
      "require_snat_disabled_for_tenant_networks",
      "evpn_local_ip",
      "evpn_nic",
      "evpn_udp_dstport",
      "clear_vrf_routes_on_startup",
      "delete_vrf_on_disconnect",
      "agent.root_helper",
      "agent.root_helper_daemon",
      "agent.use_helper_for_ns_read",
      "ovn.ovn_nb_connection",
      "ovn.ovn_nb_private_key",
      "ovn.ovn_nb_certificate",
      "ovn.ovn_nb_ca_cert",
      "local_ovn_cluster.ovn_nb_connection",
      "local_ovn_cluster.external_nics",
      "local_ovn_cluster.peer_ips",
      "local_ovn_cluster.provider_networks_pool_prefixes",
      "local_ovn_cluster.bgp_chassis_id",
      "oslo_concurrency.lock_path",
    ]);
    assert.equal(config.bgp_router_id, "10.0.0.1");
    assert.equal(config.ovn.ovsdb_connection_timeout, 180, "upstream's [DEFAULT] spelling is honoured");
  });

  test("[privsep] sections are accepted silently", () => {
    assert.deepEqual(loadIni("[privsep]\nuser = root\n[privsep_vtysh]\nlogger_name = x\n").warnings, []);
  });

  test("ovsdb_connection_timeout in [DEFAULT] (where upstream has it) is used without a warning; [ovn] wins", () => {
    const upstream = loadIni("[DEFAULT]\novsdb_connection_timeout = 60\n");
    assert.deepEqual(upstream.warnings, []);
    assert.equal(upstream.config.ovn.ovsdb_connection_timeout, 60);
    counter += 1;
    const yaml = join(scratch, `case-${counter}.yaml`);
    writeFileSync(yaml, "ovsdb_connection_timeout:\n");
    assert.equal(
      loadConfig({ configFiles: [yaml] }).config.ovn.ovsdb_connection_timeout,
      30,
      "an empty YAML value means the default",
    );
    const both = loadIni("[ovn]\novsdb_connection_timeout = 5\n[DEFAULT]\novsdb_connection_timeout = 60\n");
    assert.equal(both.config.ovn.ovsdb_connection_timeout, 5);
    // The [ovn] options upstream moved out of [DEFAULT] still say so.
    assert.deepEqual(
      loadIni("[DEFAULT]\novn_sb_ca_cert = /ca.crt\novsdb_connection_timeout = 60\n").warnings.map((w) => [
        w.code,
        w.options,
      ]),
      [["deprecated-location", ["ovn_sb_ca_cert"]]],
    );
  });

  test("misspelt options in upstream's groups are unknown, not 'not implemented'", () => {
    const { warnings } = loadIni(
      "[agent]\nroot_helpr = sudo\n[local_ovn_cluster]\npeer_ip = 1.1.1.1\n[oslo_concurrency]\nlockpath = /x\n",
    );
    assert.deepEqual(
      warnings.map((w) => [w.code, w.options]),
      [["unknown-option", ["agent.root_helpr", "local_ovn_cluster.peer_ip", "oslo_concurrency.lockpath"]]],
    );
  });

  test("oslo.log's deprecated names are known logging options", () => {
    const { warnings } = loadIni("[DEFAULT]\nlogfile = /var/log/x.log\nlogdir = /var/log\nlog_config = /x\n");
    assert.deepEqual(
      warnings.map((w) => [w.code, w.options]),
      [["unsupported-option", ["logfile", "logdir", "log_config"]]],
    );
    assert.match(warnings[0]?.message ?? "", /--log-level and --log-format/);
  });
});
