import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isIpv6Gua,
  parseIpPrefix,
  parseMac,
  parseMacColumn,
  parseMacEntry,
  parseNatEntry,
  parseNeutronCidrs,
} from "../../../src/sb/addresses.ts";

describe("parseMac", () => {
  const cases: Array<[string, string | null]> = [
    ["fa:16:3e:bf:93:93", "fa:16:3e:bf:93:93"],
    ["FA:16:3E:0B:99:2B", "fa:16:3e:0b:99:2b"],
    ["fa:16:3e:bf:93", null],
    ["fa-16-3e-bf-93-93", null],
    ["ff:ff:ff:ff:ff:ff", null],
    ["01:00:5e:00:00:01", null],
    ["00:00:00:00:00:00", null],
    ['fa:16:3e:bf:93:93"', null],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} → ${want}`, () => {
      const r = parseMac(input);
      assert.equal(r.ok ? r.value : null, want);
    });
  }
});

describe("parseIpPrefix", () => {
  const cases: Array<[string, { ip: string; prefix: number; network: string } | null]> = [
    ["172.24.4.92", { ip: "172.24.4.92", prefix: 32, network: "172.24.4.92/32" }],
    ["10.0.0.65/26", { ip: "10.0.0.65", prefix: 26, network: "10.0.0.64/26" }],
    ["2001:DB8:0::21C", { ip: "2001:db8::21c", prefix: 128, network: "2001:db8::21c/128" }],
    ["2001:db8::20/64", { ip: "2001:db8::20", prefix: 64, network: "2001:db8::/64" }],
    ["10.0.0.65/33", null],
    ["010.0.0.1", null],
    ["0x7f.1", null],
    ["fe80::1%eth0", null],
    ["1::2::3", null],
    ["172.24.4.92;reboot", null],
    ["", null],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)}`, () => {
      const r = parseIpPrefix(input);
      assert.deepEqual(
        r.ok ? { ip: r.value.ip, prefix: r.value.prefix, network: r.value.network } : null,
        want,
      );
    });
  }
});

describe("mac entries", () => {
  it("parses a dual-stack VM entry", () => {
    const r = parseMacEntry("fa:16:3e:6c:1f:0e 172.24.4.92 2001:db8::21c");
    assert.ok(r.ok && r.value.kind === "address");
    assert.deepEqual(
      r.value.ips.map((p) => p.ip),
      ["172.24.4.92", "2001:db8::21c"],
    );
  });
  it("parses a router port entry with networks", () => {
    const r = parseMacEntry("fa:16:3e:34:30:23 10.0.0.65/26");
    assert.ok(r.ok && r.value.kind === "address");
    assert.equal(r.value.mac, "fa:16:3e:34:30:23");
    assert.equal(r.value.ips[0]?.network, "10.0.0.64/26");
  });
  it("recognises keywords and combines the column", () => {
    const r = parseMacColumn(["unknown", "fa:16:3e:0b:99:2b 10.0.0.95"]);
    assert.ok(r.ok);
    assert.equal(r.value.unknown, true);
    assert.equal(r.value.mac, "fa:16:3e:0b:99:2b");
    assert.deepEqual(
      r.value.ips.map((p) => p.ip),
      ["10.0.0.95"],
    );
  });
  it("rejects a bad IP with a message", () => {
    const r = parseMacEntry("fa:16:3e:0b:99:2b 10.0.0.300");
    assert.ok(!r.ok);
    assert.match(r.error, /bad IP/);
  });
});

describe("nat_addresses", () => {
  it("parses a distributed FIP", () => {
    const r = parseNatEntry(
      'fa:16:3e:5e:2a:79 172.24.4.79 is_chassis_resident("c46f95fa-6070-4364-bad7-d7ef8e95dd06")',
    );
    assert.ok(r.ok);
    assert.equal(r.value.resident, "c46f95fa-6070-4364-bad7-d7ef8e95dd06");
    assert.deepEqual(
      r.value.ips.map((p) => p.ip),
      ["172.24.4.79"],
    );
  });
  it("parses a centralized entry with several IPs", () => {
    const r = parseNatEntry('fa:16:3e:bf:93:93 172.24.4.163 172.24.4.200 is_chassis_resident("cr-lrp-x")');
    assert.ok(r.ok);
    assert.equal(r.value.ips.length, 2);
    assert.equal(r.value.resident, "cr-lrp-x");
  });
  it("accepts an entry without is_chassis_resident", () => {
    const r = parseNatEntry("fa:16:3e:bf:93:93 172.24.4.163");
    assert.ok(r.ok);
    assert.equal(r.value.resident, undefined);
  });
  const bad = [
    "nonsense",
    "fa:16:3e:bf:93:93",
    'fa:16:3e:bf:93:93 172.24.4.79 is_chassis_resident("a" ) ',
    'fa:16:3e:bf:93:93 is_chassis_resident("x") 172.24.4.79',
    'fa:16:3e:bf:93:93 172.24.4.79 is_chassis_resident("a\\"b")',
    "zz:16:3e:bf:93:93 172.24.4.79",
  ];
  for (const s of bad) it(`rejects ${JSON.stringify(s)}`, () => assert.equal(parseNatEntry(s).ok, false));
});

describe("neutron:cidrs and GUA", () => {
  it("parses neutron:cidrs", () => {
    const r = parseNeutronCidrs("10.0.0.95/26 2001:db8::5/64");
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.map((p) => p.ip),
      ["10.0.0.95", "2001:db8::5"],
    );
  });
  it("classifies GUA", () => {
    const gua = (s: string) => {
      const r = parseIpPrefix(s);
      return r.ok && isIpv6Gua(r.value);
    };
    assert.equal(gua("2001:db8::21c"), true);
    assert.equal(gua("2a01:4f8::1"), true);
    assert.equal(gua("fd00::1"), false);
    assert.equal(gua("fe80::1"), false);
    assert.equal(gua("10.0.0.1"), false);
  });
});
