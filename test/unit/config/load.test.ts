import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../../src/config/errors.ts";
import { type LoadedConfig, loadConfig } from "../../../src/config/load.ts";
import { renderConfigYaml } from "../../../src/config/render.ts";

const FIXTURES = fileURLToPath(new URL("../../fixtures/config/", import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);

const scratch = mkdtempSync(join(tmpdir(), "ovn-bgp-config-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
/** Writes `text` to a fresh file in the scratch dir and returns its path. */
function file(text: string, ext = "conf"): string {
  counter += 1;
  const path = join(scratch, `case-${counter}.${ext}`);
  writeFileSync(path, text);
  return path;
}

function loadIni(body: string): LoadedConfig {
  return loadConfig({ configFiles: [file(body)] });
}

function expectConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a ConfigError");
}

describe("defaults", () => {
  test("no sources gives the documented defaults", () => {
    const { config, warnings, files } = loadConfig({ configFiles: [] });
    assert.deepEqual(warnings, []);
    assert.deepEqual(files, []);
    assert.deepEqual(config, {
      reconcile_interval: 300,
      expose_tenant_networks: false,
      expose_ipv6_gua_tenant_networks: false,
      advertisement_method_tenant_networks: "ip",
      address_scopes: [],
      bgp_AS: 64999,
      bgp_nic: "bgp-nic",
      bgp_vrf: "bgp-vrf",
      bgp_vrf_table_id: 10,
      announce_via: "vrf",
      ovsdb_connection: "unix:/var/run/openvswitch/db.sock",
      ip_rule_priority: 32000,
      ip_rule_layout: "per-ip",
      min_exposed_prefix_ipv4: 16,
      min_exposed_prefix_ipv6: 48,
      route_protocol: 179,
      bridge_table_base: 200,
      rt_tables_dropin: "/etc/iproute2/rt_tables.d/ovn-bgp.conf",
      flow_cookie: 999,
      flow_priority: 900,
      drift_poll_ms: 500,
      frr_vty_socket_dir: "/run/frr",
      frr_command_prefix: [],
      ovs_command_prefix: [],
      metrics_listen: "127.0.0.1:9797",
      control_socket: "/run/ovn-bgp/agent.ctl",
      adopt_upstream_state: false,
      debug: false,
      ovn: { ovsdb_connection_timeout: 30 },
    });
  });
});

describe("upstream INI", () => {
  test("the upstream documented example loads with its values mapped", () => {
    const path = fixture("upstream-bgp-agent.conf");
    const { config, sources } = loadConfig({ configFiles: [path] });
    assert.equal(config.reconcile_interval, 120);
    assert.equal(config.expose_tenant_networks, true);
    assert.equal(config.bgp_AS, 64999);
    assert.equal(config.bgp_nic, "bgp-nic");
    assert.equal(config.bgp_vrf, "bgp-vrf");
    assert.equal(config.bgp_vrf_table_id, 10);
    assert.equal(config.ovsdb_connection, "tcp:127.0.0.1:6640");
    assert.deepEqual(config.address_scopes, ["2237917c7b12489a84de4ef384a2bcae"]);
    assert.deepEqual(config.ovn, { ovn_sb_connection: "tcp:172.17.0.30:6642", ovsdb_connection_timeout: 30 });
    assert.equal(config.debug, true, "oslo's debug=True is honoured");
    assert.equal(sources.get("bgp_AS"), path);
    assert.equal(sources.get("flow_cookie"), "<defaults>");
  });

  test("the upstream example warns once about what it ignores, and not about driver=ovn_bgp_driver", () => {
    const path = fixture("upstream-bgp-agent.conf");
    const { warnings } = loadConfig({ configFiles: [path] });
    assert.equal(warnings.length, 1);
    const [w] = warnings;
    assert.equal(w?.code, "unsupported-option");
    assert.equal(w?.file, path);
    assert.deepEqual(w?.options, ["ovn.ovn_nb_connection", "agent.root_helper", "agent.root_helper_daemon"]);
    assert.match(w?.message ?? "", /upstream-bgp-agent\.conf/);
    assert.doesNotMatch(
      w?.message ?? "",
      /--log-level/,
      "no logging hint: the only oslo.log option here, debug, is honoured",
    );
  });

  test("oslo.config boolean spellings", () => {
    const truthy = ["True", "true", "TRUE", "yes", "Yes", "on", "1"];
    const falsy = ["False", "false", "no", "NO", "off", "0"];
    for (const word of truthy) {
      assert.equal(
        loadIni(`[DEFAULT]\nexpose_tenant_networks=${word}\n`).config.expose_tenant_networks,
        true,
        word,
      );
    }
    for (const word of falsy) {
      const ini = `[DEFAULT]\nexpose_tenant_networks=true\n[DEFAULT]\nexpose_ipv6_gua_tenant_networks = ${word}\n`;
      assert.equal(loadIni(ini).config.expose_ipv6_gua_tenant_networks, false, word);
    }
  });

  test("list options are comma-separated, trimmed, empty items dropped", () => {
    assert.deepEqual(loadIni("[DEFAULT]\naddress_scopes = a, b ,,c\n").config.address_scopes, [
      "a",
      "b",
      "c",
    ]);
    assert.deepEqual(loadIni("[DEFAULT]\naddress_scopes =\n").config.address_scopes, []);
  });

  test("command prefixes are words: FRR or OVS in a container or another root", () => {
    const { config } = loadIni(
      "[DEFAULT]\nfrr_command_prefix = podman  exec frr\novs_command_prefix = /var/lib/ovn-bgp/platforms/platform-exec trixie\n",
    );
    assert.deepEqual(config.frr_command_prefix, ["podman", "exec", "frr"]);
    assert.deepEqual(config.ovs_command_prefix, ["/var/lib/ovn-bgp/platforms/platform-exec", "trixie"]);
    assert.deepEqual(loadIni("[DEFAULT]\nfrr_command_prefix =\n").config.frr_command_prefix, []);
  });

  test("a repeated key in one file keeps the last value", () => {
    assert.equal(loadIni("[DEFAULT]\nbgp_AS=65001\nbgp_AS=65002\n").config.bgp_AS, 65002);
  });

  test("upstream's 'host' advertisement method is our 'ip'", () => {
    const { config } = loadIni("[DEFAULT]\nadvertisement_method_tenant_networks=host\n");
    assert.equal(config.advertisement_method_tenant_networks, "ip");
  });

  test("flow_cookie accepts ovs-ofctl hexadecimal", () => {
    assert.equal(loadIni("[DEFAULT]\nflow_cookie=0x3e7\n").config.flow_cookie, 999);
  });

  test("empty optional strings mean unset", () => {
    const { config } = loadIni("[DEFAULT]\nbgp_router_id=\n[ovn]\novn_sb_connection=\n");
    assert.equal(config.bgp_router_id, undefined);
    assert.equal("bgp_router_id" in config, false);
    assert.deepEqual(config.ovn, { ovsdb_connection_timeout: 30 });
  });

  test("ssl: SB remotes get upstream's default key, certificate and CA paths unless given", () => {
    const { config } = loadIni("[ovn]\novn_sb_connection=ssl:10.0.0.1:6642\novn_sb_ca_cert=/etc/my-ca.pem\n");
    assert.deepEqual(config.ovn, {
      ovn_sb_connection: "ssl:10.0.0.1:6642",
      ovn_sb_private_key: "/etc/pki/tls/private/ovn_bgp_agent.key",
      ovn_sb_certificate: "/etc/pki/tls/certs/ovn_bgp_agent.crt",
      ovn_sb_ca_cert: "/etc/my-ca.pem",
      ovsdb_connection_timeout: 30,
    });
  });

  test("group names are case-insensitive ([AGENT] of old upstream releases)", () => {
    const { warnings, config } = loadIni("[OVN]\nchassis_name=hv9\n[AGENT]\nroot_helper=sudo\n");
    assert.equal(config.ovn.chassis_name, "hv9");
    assert.deepEqual(
      warnings.map((w) => [w.code, w.options]),
      [["unsupported-option", ["agent.root_helper"]]],
    );
  });
});

describe("warnings", () => {
  test("unknown options are warned, with a suggestion for a near miss", () => {
    const path = file("[DEFAULT]\nbgp_as=65000\nfrobnicate=1\n[ovn]\nbgp_vrf=x\n[mystery]\na=b\n");
    const { warnings, config } = loadConfig({ configFiles: [path] });
    assert.equal(config.bgp_AS, 64999, "a misspelt option is not applied");
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.code, "unknown-option");
    assert.deepEqual(warnings[0]?.options, ["bgp_as", "frobnicate", "ovn.bgp_vrf", "mystery.a"]);
    assert.match(warnings[0]?.message ?? "", /bgp_as \(did you mean bgp_AS\?\)/);
    assert.match(warnings[0]?.message ?? "", /ovn\.bgp_vrf \(did you mean bgp_vrf\?\)/);
    assert.ok(warnings[0]?.message.startsWith(`${path}: `));
  });

  test("another mode (driver, exposing_method) is an error saying what is supported; the implemented one is silent", () => {
    assert.deepEqual(loadIni("[DEFAULT]\ndriver=ovn_bgp_driver\nexposing_method=underlay\n").warnings, []);
    const nb = expectConfigError(() => loadIni("[DEFAULT]\ndriver=nb_ovn_bgp_driver\n"));
    assert.equal(nb.option, "driver");
    assert.match(
      nb.message,
      /'nb_ovn_bgp_driver' is not supported: .*ovn_bgp_driver.*set driver = ovn_bgp_driver/,
    );
    const evpn = expectConfigError(() => loadIni("[DEFAULT]\nexposing_method=vrf\n"));
    assert.equal(evpn.option, "exposing_method");
    assert.match(evpn.message, /'vrf' is not supported: .*underlay/);
  });

  test("options for features this agent does not have are warned, once per file", () => {
    const { warnings } = loadIni("[DEFAULT]\nevpn_nic=eth9\n[local_ovn_cluster]\npeer_ips=1.1.1.1\n");
    assert.equal(warnings.length, 1);
    assert.deepEqual(warnings[0]?.options, ["evpn_nic", "local_ovn_cluster.peer_ips"]);
  });

  test("[DEFAULT] spellings of [ovn] options are used, with a warning; [ovn] wins in any order", () => {
    const old = loadIni("[DEFAULT]\novn_sb_connection=tcp:10.0.0.1:6642\n");
    assert.equal(old.config.ovn.ovn_sb_connection, "tcp:10.0.0.1:6642");
    assert.deepEqual(
      old.warnings.map((w) => [w.code, w.options]),
      [["deprecated-location", ["ovn_sb_connection"]]],
    );
    const a = file("[ovn]\novn_sb_connection=tcp:10.0.0.2:6642\n");
    const b = file("[DEFAULT]\novn_sb_connection=tcp:10.0.0.3:6642\n");
    assert.equal(loadConfig({ configFiles: [a, b] }).config.ovn.ovn_sb_connection, "tcp:10.0.0.2:6642");
  });
});

describe("YAML", () => {
  test("our YAML fixture: typed values, nested ovn group, lists", () => {
    const { config, warnings } = loadConfig({ configFiles: [fixture("ovn-bgp.yaml")] });
    assert.deepEqual(warnings, []);
    assert.equal(config.bgp_AS, 4200000001);
    assert.equal(config.bgp_router_id, "192.0.2.10");
    assert.equal(config.expose_ipv6_gua_tenant_networks, true);
    assert.equal(config.advertisement_method_tenant_networks, "subnet");
    assert.deepEqual(config.address_scopes, ["scope-a", "scope-b"]);
    assert.equal(config.announce_via, "table");
    assert.equal(config.route_protocol, 77);
    assert.equal(config.flow_cookie, 1000);
    assert.equal(config.metrics_listen, "[::1]:9100");
    assert.deepEqual(config.ovn, {
      ovn_sb_connection: "ssl:192.0.2.1:6642,ssl:192.0.2.2:6642",
      ovn_sb_private_key: "/etc/pki/tls/private/ovn_bgp_agent.key",
      ovn_sb_certificate: "/etc/pki/tls/certs/ovn_bgp_agent.crt",
      ovn_sb_ca_cert: "/etc/ovn/ca.pem",
      chassis_name: "hv1",
      ovsdb_connection_timeout: 30,
    });
  });

  test("comma-separated strings work for lists in YAML too; null resets to the default", () => {
    const base = file("bgp_AS: 65010\n", "yaml");
    const reset = file("bgp_AS:\naddress_scopes: x, y\n", "yml");
    const { config } = loadConfig({ configFiles: [base, reset] });
    assert.equal(config.bgp_AS, 64999);
    assert.deepEqual(config.address_scopes, ["x", "y"]);
  });

  test("invalid YAML and non-mapping YAML are file-level ConfigErrors", () => {
    const bad = file("bgp_AS: [1, 2\n", "yaml");
    const e1 = expectConfigError(() => loadConfig({ configFiles: [bad] }));
    assert.equal(e1.file, bad);
    assert.equal(e1.option, undefined);
    assert.match(e1.message, /not valid YAML/);
    const list = file("- a\n- b\n", "yaml");
    assert.match(expectConfigError(() => loadConfig({ configFiles: [list] })).message, /mapping/);
  });

  test("a resolved config printed as YAML loads back to the same config", () => {
    const loaded = loadConfig({ configFiles: [fixture("upstream-bgp-agent.conf"), fixture("ovn-bgp.yaml")] });
    const printed = file(renderConfigYaml(loaded, { sources: true }), "yaml");
    const again = loadConfig({ configFiles: [printed] });
    assert.deepEqual(again.config, loaded.config);
    assert.deepEqual(again.warnings, []);
  });
});

describe("precedence", () => {
  test("later --config-file entries override earlier ones, option by option", () => {
    const a = file("[DEFAULT]\nbgp_AS=65001\nbgp_nic=nic-a\n");
    const b = file("[DEFAULT]\nbgp_AS=65002\n");
    const { config, files, sources } = loadConfig({ configFiles: [a, b] });
    assert.equal(config.bgp_AS, 65002);
    assert.equal(config.bgp_nic, "nic-a");
    assert.deepEqual(files, [a, b]);
    assert.equal(sources.get("bgp_AS"), b);
    assert.equal(sources.get("bgp_nic"), a);
  });

  test("--config-dir files come after the files, sorted by name, hidden and other files skipped", () => {
    const first = file("[DEFAULT]\nbgp_AS=65999\nbgp_vrf=vrf-first\n");
    const dir = fixture("conf.d");
    const { config, files, sources } = loadConfig({ configFiles: [first], configDir: dir });
    assert.deepEqual(files, [
      first,
      join(dir, "10-base.conf"),
      join(dir, "20-site.conf"),
      join(dir, "30-host.yaml"),
    ]);
    assert.equal(config.bgp_AS, 65003);
    assert.equal(sources.get("bgp_AS"), join(dir, "30-host.yaml"));
    assert.equal(config.reconcile_interval, 60);
    assert.equal(config.bgp_nic, "base-nic");
    assert.equal(config.bgp_vrf, "vrf-first");
    assert.equal(config.expose_tenant_networks, true);
    assert.equal(config.ovn.chassis_name, "from-dir");
  });

  test("overrides win over every file, in flat, dotted and nested forms", () => {
    const a = file("[DEFAULT]\nbgp_AS=65001\n[ovn]\nchassis_name=file\n");
    const flat = loadConfig({ configFiles: [a], overrides: { bgp_AS: 65100, "ovn.chassis_name": "dotted" } });
    assert.equal(flat.config.bgp_AS, 65100);
    assert.equal(flat.config.ovn.chassis_name, "dotted");
    assert.equal(flat.sources.get("bgp_AS"), "<overrides>");
    const nested = loadConfig({ configFiles: [a], overrides: { ovn: { chassis_name: "nested" } } });
    assert.equal(nested.config.ovn.chassis_name, "nested");
  });

  test("missing files and directories are ConfigErrors naming them", () => {
    const missing = join(scratch, "nope.conf");
    const e = expectConfigError(() => loadConfig({ configFiles: [missing] }));
    assert.equal(e.file, missing);
    assert.equal(e.option, undefined);
    assert.equal(e.message, `${missing}: cannot read config file: no such file or directory`);
    const d = expectConfigError(() => loadConfig({ configFiles: [], configDir: join(scratch, "nodir") }));
    assert.equal(d.file, join(scratch, "nodir"));
  });
});

describe("invalid values", () => {
  test("the error names option, file, expectation and the value as written", () => {
    const path = file("[DEFAULT]\nbgp_AS=abc\n");
    const e = expectConfigError(() => loadConfig({ configFiles: [path] }));
    assert.equal(e.option, "bgp_AS");
    assert.equal(e.file, path);
    assert.equal(e.message, `bgp_AS in ${path}: expected an integer 1..4294967295, got 'abc'`);
  });

  // [option path, INI body (group header included), expected fragment of the message]
  const cases: Array<[string, string, RegExp]> = [
    ["bgp_AS", "[DEFAULT]\nbgp_AS=0", /got '0'/],
    ["bgp_AS", "[DEFAULT]\nbgp_AS=4294967296", /1\.\.4294967295/],
    ["bgp_AS", "[DEFAULT]\nbgp_AS=1.5", /got '1\.5'/],
    ["reconcile_interval", "[DEFAULT]\nreconcile_interval=0", /seconds/],
    ["expose_tenant_networks", "[DEFAULT]\nexpose_tenant_networks=maybe", /boolean.*got 'maybe'/],
    [
      "advertisement_method_tenant_networks",
      "[DEFAULT]\nadvertisement_method_tenant_networks=all",
      /ip, subnet/,
    ],
    ["bgp_router_id", "[DEFAULT]\nbgp_router_id=10.0.0", /IPv4/],
    ["bgp_router_id", "[DEFAULT]\nbgp_router_id=2001:db8::1", /IPv4/],
    ["bgp_nic", "[DEFAULT]\nbgp_nic=a-name-that-is-too-long", /15 characters/],
    ["bgp_vrf", "[DEFAULT]\nbgp_vrf=has space", /interface name/],
    ["bgp_vrf_table_id", "[DEFAULT]\nbgp_vrf_table_id=254", /254 \(main\)/],
    ["announce_via", "[DEFAULT]\nannounce_via=bgp", /vrf, table/],
    ["ovsdb_connection", "[DEFAULT]\novsdb_connection=/run/openvswitch/db.sock", /unix:PATH/],
    ["ovsdb_connection", "[DEFAULT]\novsdb_connection=tcp:127.0.0.1:70000", /OVSDB remote/],
    ["ip_rule_priority", "[DEFAULT]\nip_rule_priority=32766", /32765/],
    ["route_protocol", "[DEFAULT]\nroute_protocol=186", /FRR/],
    ["route_protocol", "[DEFAULT]\nroute_protocol=3", /kernel/],
    ["route_protocol", "[DEFAULT]\nroute_protocol=256", /0\.\.255/],
    ["rt_tables_dropin", "[DEFAULT]\nrt_tables_dropin=/etc/iproute2/rt_tables.d/ovn-bgp", /\.conf/],
    ["rt_tables_dropin", "[DEFAULT]\nrt_tables_dropin=ovn-bgp.conf", /absolute/],
    ["flow_cookie", "[DEFAULT]\nflow_cookie=0", /1\.\./],
    ["flow_priority", "[DEFAULT]\nflow_priority=65536", /1\.\.65535/],
    ["frr_vty_socket_dir", "[DEFAULT]\nfrr_vty_socket_dir=run/frr", /absolute/],
    ["metrics_listen", "[DEFAULT]\nmetrics_listen=9797", /HOST:PORT/],
    ["metrics_listen", "[DEFAULT]\nmetrics_listen=::1:9797", /HOST:PORT/],
    ["ovn.ovn_sb_connection", "[ovn]\novn_sb_connection=tcp:10.0.0.1", /OVSDB remotes/],
    [
      "ovn.ovn_sb_connection",
      "[ovn]\novn_sb_connection=tcp:10.0.0.1:6642,bogus",
      /got 'tcp:10\.0\.0\.1:6642,bogus'/,
    ],
    ["ovn.ovn_sb_ca_cert", "[ovn]\novn_sb_ca_cert=ca.pem", /absolute/],
  ];
  for (const [option, body, fragment] of cases) {
    test(`${body.replace(/\n/g, " ")} -> ConfigError on ${option}`, () => {
      const path = file(`${body}\n`);
      const e = expectConfigError(() => loadConfig({ configFiles: [path] }));
      assert.equal(e.option, option);
      assert.equal(e.file, path);
      assert.ok(e.message.startsWith(`${option} in ${path}: expected `), e.message);
      assert.match(e.message, fragment);
    });
  }

  test("YAML values are judged like INI ones (a YAML boolean is not an AS number)", () => {
    const path = file("bgp_AS: true\n", "yaml");
    const e = expectConfigError(() => loadConfig({ configFiles: [path] }));
    assert.equal(e.message, `bgp_AS in ${path}: expected an integer 1..4294967295, got true`);
  });

  test("the error blames the file that set the bad value, not the last file read", () => {
    const bad = file("[DEFAULT]\nflow_priority=0\n");
    const later = file("[DEFAULT]\nbgp_AS=65001\n");
    const e = expectConfigError(() => loadConfig({ configFiles: [bad, later] }));
    assert.equal(e.file, bad);
    assert.equal(e.option, "flow_priority");
  });

  test("cross-option conflicts blame whichever option was set last", () => {
    const vrfLast = expectConfigError(() => loadIni("[DEFAULT]\nbgp_vrf_table_id=205\n"));
    assert.equal(vrfLast.option, "bgp_vrf_table_id");
    assert.match(vrfLast.message, /inside the provider bridge tables 200\.\.231/);

    const a = file("[DEFAULT]\nbgp_vrf_table_id=1000\n");
    const b = file("[DEFAULT]\nbridge_table_base=990\n");
    const baseLast = expectConfigError(() => loadConfig({ configFiles: [a, b] }));
    assert.equal(baseLast.option, "bridge_table_base");
    assert.equal(baseLast.file, b);

    const reserved = expectConfigError(() => loadIni("[DEFAULT]\nbridge_table_base=240\n"));
    assert.equal(reserved.option, "bridge_table_base");
    assert.match(reserved.message, /table 253 \(default\)/);

    const same = expectConfigError(() => loadIni("[DEFAULT]\nbgp_nic=bgp-vrf\n"));
    assert.equal(same.option, "bgp_nic");
  });
});
