/** Parsers of `ip -N -j` output, on text captured from iproute2 6.1 / kernel 6.18. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isUpstreamHelperAddress, parseAddresses } from "../../../src/host/kernel/address.ts";
import { parseBatchErrors, splitJsonValues } from "../../../src/host/kernel/ip-batch.ts";
import { parseLinks } from "../../../src/host/kernel/link.ts";
import { parseNdpProxies } from "../../../src/host/kernel/ndp-proxy.ts";
import { parseNeighbours } from "../../../src/host/kernel/neighbour.ts";
import { parseRoutes } from "../../../src/host/kernel/route.ts";
import { parseRules } from "../../../src/host/kernel/rule.ts";

const RULES4 =
  '[{"priority":0,"src":"all","table":"255","protocol":"2"},{"priority":32000,"src":"all","dst":"172.24.4.92","table":"200","protocol":"99"},{"priority":32000,"src":"all","dst":"10.0.0.64","dstlen":26,"table":"200","protocol":"99"},{"priority":32000,"src":"all","dst":"10.7.7.8","table":"200"},{"priority":32766,"src":"all","table":"254","protocol":"2"}]';
const ROUTES6 =
  '[{"type":"1","dst":"2001:db8::5","dev":"br-ex","table":"200","scope":"0","metric":1024,"flags":[],"pref":"medium"},{"type":"1","dst":"default","dev":"br-ex","table":"200","scope":"0","metric":1024,"flags":[],"pref":"medium"}]';
const ROUTES4 =
  '[{"type":"1","dst":"default","dev":"br-ex","table":"200","scope":"253","flags":[]},{"dst":"10.0.0.64/26","gateway":"172.24.4.163","dev":"br-ex","table":"200","scope":"0","flags":[]},{"type":"2","dst":"127.0.0.1","dev":"lo","table":"255","scope":"254"}]';
const NEIGH =
  '[{"dst":"172.24.4.163","dev":"br-ex","lladdr":"FA:16:3E:BF:93:93","state":["PERMANENT"],"protocol":"99"},{"dst":"10.9.9.9","dev":"br-ex","lladdr":"00:11:22:33:44:55","state":["PERMANENT"]}]';
const PROXY =
  '[{"dst":"2001:db8::20","dev":"br-ex","proxy":null,"protocol":"99"},{"dst":"10.1.1.1","dev":"br-ex","proxy":null}]';
const ADDRS =
  '[{"ifindex":2,"ifname":"br-ex","flags":["UP"],"addr_info":[{"family":"inet6","local":"2001:db8::77","prefixlen":128,"scope":"global"},{"family":"inet6","local":"fe80::fc14:eaff:fef3:bd5","prefixlen":64,"scope":"link"},{"family":"inet","local":"169.254.1.1","prefixlen":32,"scope":"global"}]}]';
const LINKS =
  '[{"ifindex":3,"ifname":"br-ex.100","flags":["BROADCAST","UP"],"link":"br-ex","ifalias":"ovn-bgp","linkinfo":{"info_kind":"vlan","info_data":{"protocol":"802.1Q","id":100}}},{"ifindex":4,"ifname":"bgp-vrf","flags":["NOARP"],"linkinfo":{"info_kind":"vrf","info_data":{"table":10}}},{"ifindex":5,"ifname":"bgp-nic","flags":["UP"],"master":"bgp-vrf","linkinfo":{"info_kind":"dummy"}}]';

describe("ip -json parsers", () => {
  it("splits a read batch into one array per command, strings with brackets included", () => {
    const text = `${RULES4}\n[]\n[{"ifalias":"a]b[\\"c"}]\n`;
    const values = splitJsonValues(text);
    assert.equal(values.length, 3);
    assert.deepEqual(values[1], []);
    assert.deepEqual(values[2], [{ ifalias: 'a]b["c' }]);
    assert.throws(() => splitJsonValues("[{"));
  });

  it("parses rules with and without prefix length and protocol", () => {
    const rules = parseRules(JSON.parse(RULES4), 4);
    const ours = rules.filter((r) => r.protocol === 99);
    assert.deepEqual(ours, [
      { family: 4, priority: 32000, table: 200, protocol: 99, to: "172.24.4.92/32" },
      { family: 4, priority: 32000, table: 200, protocol: 99, to: "10.0.0.64/26" },
    ]);
    assert.equal(rules.find((r) => r.to === "10.7.7.8/32")?.protocol, 0);
    assert.equal(rules.find((r) => r.priority === 0)?.to, undefined);
  });

  it("parses routes per family, 'default' included, and skips non-unicast", () => {
    assert.deepEqual(parseRoutes(JSON.parse(ROUTES6), 6), [
      { family: 6, table: 200, dst: "2001:db8::5/128", dev: "br-ex", scope: "global", metric: 1024 },
      { family: 6, table: 200, dst: "default", dev: "br-ex", scope: "global", metric: 1024 },
    ]);
    assert.deepEqual(parseRoutes(JSON.parse(ROUTES4), 4), [
      { family: 4, table: 200, dst: "default", dev: "br-ex", scope: "link" },
      { family: 4, table: 200, dst: "10.0.0.64/26", dev: "br-ex", via: "172.24.4.163", scope: "global" },
    ]);
  });

  it("parses neighbours and NDP proxies with their protocol", () => {
    assert.deepEqual(parseNeighbours(JSON.parse(NEIGH)), [
      { family: 4, dev: "br-ex", ip: "172.24.4.163", mac: "fa:16:3e:bf:93:93", protocol: 99 },
      { family: 4, dev: "br-ex", ip: "10.9.9.9", mac: "00:11:22:33:44:55", protocol: 0 },
    ]);
    assert.deepEqual(parseNdpProxies(JSON.parse(PROXY)), [
      { dev: "br-ex", ip: "2001:db8::20", protocol: 99 },
    ]);
  });

  it("parses addresses and links", () => {
    assert.deepEqual(
      parseAddresses(JSON.parse(ADDRS)).map((a) => `${a.dev} ${a.cidr} ${a.scope}`),
      [
        "br-ex 2001:db8::77/128 global",
        "br-ex fe80::fc14:eaff:fef3:bd5/64 link",
        "br-ex 169.254.1.1/32 global",
      ],
    );
    assert.deepEqual(parseLinks(JSON.parse(LINKS)), [
      { name: "br-ex.100", up: true, kind: "vlan", alias: "ovn-bgp", parent: "br-ex", vlanId: 100 },
      { name: "bgp-vrf", up: false, kind: "vrf", vrfTable: 10 },
      { name: "bgp-nic", up: true, kind: "dummy", master: "bgp-vrf" },
    ]);
  });

  it("recognises the upstream helper addresses only", () => {
    assert.ok(isUpstreamHelperAddress("169.254.1.1/32"));
    assert.ok(isUpstreamHelperAddress("fd53:d91e:400:7f17::2:2/128"));
    assert.ok(!isUpstreamHelperAddress("169.254.1.2/32"));
    assert.ok(!isUpstreamHelperAddress("169.254.1.1/24"));
    assert.ok(!isUpstreamHelperAddress("192.0.2.1/32"));
  });

  it("maps -force batch errors to line numbers", () => {
    const stderr =
      'Error: Unknown device type.\nCommand failed -:1\nCannot find device "x"\nCommand failed -:4\nRTNETLINK answers: File exists\nCommand failed -:7\nError: argument "v" is wrong: Device does not exist\n';
    const { lineErrors, trailing } = parseBatchErrors(stderr);
    assert.deepEqual(
      [...lineErrors],
      [
        [1, "Error: Unknown device type."],
        [4, 'Cannot find device "x"'],
        [7, "RTNETLINK answers: File exists"],
      ],
    );
    assert.equal(trailing, 'Error: argument "v" is wrong: Device does not exist');
  });
});
