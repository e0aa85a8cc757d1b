import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { canonicalIp } from "../../../src/host/kernel/validate.ts";

test("canonicalIp: the dotted-quad fast path agrees with ipaddr.js on every IPv4 address", () => {
  fc.assert(
    fc.property(fc.ipV4(), (ip) => {
      assert.equal(canonicalIp(ip), ipaddr.IPv4.parse(ip).toString());
    }),
    { numRuns: 2000 },
  );
});

test("canonicalIp: rejects what is not an address, canonicalises IPv6, same answer when cached", () => {
  for (const bad of ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.4;", "", "x", "1.2.3.4\nroute"])
    assert.equal(canonicalIp(bad), undefined, bad);
  assert.equal(canonicalIp("2001:0db8::0001"), "2001:db8::1");
  assert.equal(canonicalIp("2001:0db8::0001"), "2001:db8::1");
  assert.equal(canonicalIp("fe80::1%br-ex"), undefined);
});
