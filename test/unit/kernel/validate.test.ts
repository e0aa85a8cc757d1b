import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  canonicalIp,
  checkCidr,
  checkIfName,
  checkIp,
  checkMac,
  checkSysctlValue,
  checkTable,
  checkTableName,
  InvalidValueError,
  sysctlPath,
} from "../../../src/host/kernel/validate.ts";

/** Strings that would add a command, a comment or a token to an `ip -batch` line. */
const HOSTILE = [
  "br-ex\nlink del dev eth0",
  "br-ex; reboot",
  'br-ex"',
  "br-ex'",
  "br-ex #",
  "br ex",
  "br-ex\tx",
  "",
  "a-very-long-device-name",
  "../etc",
  "-force",
];

describe("kernel validation", () => {
  it("refuses hostile device names", () => {
    for (const v of HOSTILE) assert.throws(() => checkIfName(v), InvalidValueError, JSON.stringify(v));
    assert.equal(checkIfName("br-ex.100"), "br-ex.100");
    assert.equal(checkIfName("bgp_nic"), "bgp_nic");
  });

  it("refuses hostile IPs, CIDRs and MACs", () => {
    for (const v of [
      "172.24.4.92\nrule flush",
      "172.24.4.92 ",
      "172.24.4.92;",
      "1.2.3",
      "01.2.3.4",
      "256.1.1.1",
      "fe80::1%eth0",
      "2001:db8::g",
      "",
    ]) {
      assert.throws(() => checkIp(v), InvalidValueError, JSON.stringify(v));
      assert.throws(() => checkCidr(`${v}/32`), InvalidValueError, JSON.stringify(v));
    }
    for (const v of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0", "10.0.0.0/2 6", "2001:db8::/129", "10.0.0.0/-1"])
      assert.throws(() => checkCidr(v), InvalidValueError, v);
    for (const v of ["fa:16:3e:bf:93:9", "fa:16:3e:bf:93:93\n", "fa-16-3e-bf-93-93", "fa:16:3e:bf:93:93 x"])
      assert.throws(() => checkMac(v), InvalidValueError, v);
    assert.throws(() => checkIp("2001:db8::1", 4), InvalidValueError);
  });

  it("canonicalises addresses (RFC 5952) and keeps host bits of a CIDR", () => {
    assert.equal(checkIp("2001:DB8:0:0::21C"), "2001:db8::21c");
    assert.equal(checkCidr("10.0.0.65/26"), "10.0.0.65/26");
    assert.equal(checkCidr("2001:0db8::0/64", 6), "2001:db8::/64");
    assert.equal(checkMac("FA:16:3E:BF:93:93"), "fa:16:3e:bf:93:93");
    assert.equal(canonicalIp("not-an-ip"), undefined);
  });

  it("refuses reserved tables, bad names and values", () => {
    for (const t of [0, 255, -1, 1.5, 2 ** 32])
      assert.throws(() => checkTable(t), InvalidValueError, String(t));
    assert.equal(checkTable(200), 200);
    for (const n of ["br ex", "br-ex\n201 evil", "#x", ""])
      assert.throws(() => checkTableName(n), InvalidValueError);
    for (const v of ["1\n", "1 2", "1;", "$(x)", ""])
      assert.throws(() => checkSysctlValue(v), InvalidValueError);
  });

  it("maps sysctl keys to /proc/sys paths, keeping dotted device names whole", () => {
    assert.deepEqual(sysctlPath("net.ipv4.conf.br-ex.proxy_arp"), {
      path: "net/ipv4/conf/br-ex/proxy_arp",
      dev: "br-ex",
    });
    assert.deepEqual(sysctlPath("net.ipv6.conf.br-ex.100.proxy_ndp"), {
      path: "net/ipv6/conf/br-ex.100/proxy_ndp",
      dev: "br-ex.100",
    });
    // sysctl(8)'s own way to write a dotted device name inside the dotted form.
    assert.deepEqual(sysctlPath("net.ipv4.conf.br-ex/100.proxy_arp"), {
      path: "net/ipv4/conf/br-ex.100/proxy_arp",
      dev: "br-ex.100",
    });
    assert.deepEqual(sysctlPath("net/ipv4/conf/br-ex.100/proxy_arp"), {
      path: "net/ipv4/conf/br-ex.100/proxy_arp",
      dev: "br-ex.100",
    });
    assert.deepEqual(sysctlPath("net.ipv4.conf.all.forwarding"), { path: "net/ipv4/conf/all/forwarding" });
    assert.deepEqual(sysctlPath("net.ipv4.ip_forward"), { path: "net/ipv4/ip_forward" });
    for (const k of ["net/ipv4/../../etc/passwd", "net.ipv4.conf.br ex.proxy_arp", "net.ipv4.x\ny", "net"])
      assert.throws(() => sysctlPath(k), InvalidValueError, k);
  });
});
