/** The pure diff: which batch lines each layout and change produce, and what it never touches. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { layoutBatch } from "../../../src/host/kernel/apply.ts";
import { diffKernel } from "../../../src/host/kernel/diff.ts";
import { renderRtTables } from "../../../src/host/kernel/dropin-files.ts";
import { deletesVrf, OWNER_ALIAS } from "../../../src/host/kernel/link.ts";
import type { KernelOps, ObservedKernel } from "../../../src/host/kernel/types.ts";
import type { KernelState } from "../../../src/plan/desired-state.ts";
import { emptyObserved, PROTO, seedState } from "./seed-state.ts";

const OPTS = { routeProtocol: PROTO, ownedDevices: ["bgp-nic"], rtTablesDropin: "/tmp/x/rt.conf" };

const lines = (ops: KernelOps, channel: "link" | "ip" | "ip6") =>
  layoutBatch(ops.ops.filter((o) => o.channel === channel)).lines;

/** What the kernel holds after a perfect apply of `d` (objects carry our protocol). */
function observedAfter(d: KernelState, base: ObservedKernel = emptyObserved()): ObservedKernel {
  const links = [...base.links];
  for (const l of d.links)
    links.push({
      name: l.name,
      kind: l.kind,
      up: true,
      alias: OWNER_ALIAS,
      ...(l.kind === "vrf" ? { vrfTable: l.table } : {}),
      ...(l.kind === "dummy" && l.master ? { master: l.master } : {}),
      ...(l.kind === "vlan" ? { parent: l.parent, vlanId: l.vlanId } : {}),
    });
  return {
    ...base,
    links,
    addresses: [...base.addresses, ...d.addresses.map((a) => ({ ...a, scope: "global" }))],
    rules: [...base.rules, ...d.rules.map((r) => ({ ...r, protocol: PROTO }))],
    routes: [
      ...base.routes,
      ...d.routes.map((r) => ({ ...r, scope: r.family === 6 ? ("global" as const) : r.scope, metric: 1024 })),
    ],
    neighbours: [...base.neighbours, ...d.neighbours.map((n) => ({ ...n, protocol: PROTO }))],
    ndpProxies: [...base.ndpProxies, ...d.ndpProxies.map((p) => ({ ...p, protocol: PROTO }))],
    sysctls: new Map(d.sysctls.map((s) => [s.key, s.value])),
    files: new Map([["/tmp/x/rt.conf", renderRtTables(d.routingTables ?? [])]]),
  };
}

describe("kernel diff", () => {
  it("table layout from scratch: one batch in dependency order, IPv6 rules apart", () => {
    const ops = diffKernel(seedState(), emptyObserved(), OPTS);
    assert.deepEqual(ops.blocked, []);
    assert.deepEqual(lines(ops, "link"), []);
    assert.deepEqual(lines(ops, "ip"), [
      "address add 169.254.1.1/32 dev br-ex",
      "address add fd53:d91e:400:7f17::1:1/128 dev br-ex nodad",
      "route add 0.0.0.0/0 dev br-ex table 200 proto 240 scope link",
      "route add ::/0 dev br-ex table 200 proto 240",
      "route add 172.24.4.163/32 dev br-ex table 200 proto 240 scope link",
      "route add 172.24.4.92/32 dev br-ex table 10 proto 240 scope link",
      "route add 2001:db8::21c/128 dev br-ex table 10 proto 240",
      "route add 172.24.4.163/32 dev br-ex table 10 proto 240 scope link",
      "route add 2001:db8::20/128 dev br-ex table 10 proto 240",
      "route add 10.0.0.64/26 via 172.24.4.163 dev br-ex table 200 proto 240 scope global",
      "neigh replace 172.24.4.163 lladdr fa:16:3e:bf:93:93 dev br-ex nud permanent protocol 240",
      "neigh add proxy 2001:db8::20 dev br-ex protocol 240",
      "rule add to 172.24.4.92/32 lookup 200 priority 32000 protocol 240",
      "rule add to 172.24.4.163/32 lookup 200 priority 32000 protocol 240",
      "rule add to 10.0.0.64/26 lookup 200 priority 32000 protocol 240",
    ]);
    assert.deepEqual(lines(ops, "ip6"), [
      "rule add to 2001:db8::21c/128 lookup 200 priority 32000 protocol 240",
      "rule add to 2001:db8::20/128 lookup 200 priority 32000 protocol 240",
    ]);
    const sysctl = ops.ops.filter((o) => o.channel === "sysctl").map((o) => o.sysctl);
    assert.deepEqual(sysctl, [
      { key: "net.ipv4.conf.br-ex.proxy_arp", path: "net/ipv4/conf/br-ex/proxy_arp", value: "1" },
      { key: "net.ipv6.conf.br-ex.proxy_ndp", path: "net/ipv6/conf/br-ex/proxy_ndp", value: "1" },
    ]);
    const file = ops.ops.find((o) => o.channel === "file")?.file;
    assert.equal(file?.path, "/tmp/x/rt.conf");
    assert.match(file?.content ?? "", /^10\tovn-bgp-announce\n200\tbr-ex\n$/m);
  });

  it("vrf layout: VRF before its dummy in a device batch, advertised IPs on bgp-nic", () => {
    const ops = diffKernel(seedState({ layout: "vrf" }), emptyObserved(), OPTS);
    assert.deepEqual(lines(ops, "link"), [
      "link add name bgp-vrf type vrf table 10",
      `link set dev bgp-vrf alias ${OWNER_ALIAS} up`,
      "link add name bgp-nic type dummy",
      `link set dev bgp-nic alias ${OWNER_ALIAS} master bgp-vrf up`,
    ]);
    const ip = lines(ops, "ip");
    assert.ok(ip.includes("address add 172.24.4.92/32 dev bgp-nic"));
    assert.ok(ip.includes("address add 2001:db8::21c/128 dev bgp-nic nodad"));
    assert.ok(!ip.some((l) => l.includes("table 10")), "no announce-table routes in the vrf layout");
  });

  it("a second diff against the result is empty, for both layouts", () => {
    for (const layout of ["table", "vrf"] as const) {
      const d = seedState({ layout });
      const ops = diffKernel(d, observedAfter(d), OPTS);
      assert.deepEqual(ops.ops, [], layout);
      assert.deepEqual(ops.blocked, [], layout);
    }
  });

  it("withdrawal removes every object of the exposure, rules first, and nothing else", () => {
    const full = seedState();
    const ops = diffKernel(seedState({ crLrp: false }), observedAfter(full), OPTS);
    assert.ok(ops.ops.every((o) => o.op === "del"));
    assert.deepEqual(lines(ops, "ip"), [
      "rule del to 172.24.4.163/32 lookup 200 priority 32000 protocol 240",
      "rule del to 10.0.0.64/26 lookup 200 priority 32000 protocol 240",
      "neigh del 172.24.4.163 dev br-ex",
      "neigh del proxy 2001:db8::20 dev br-ex",
      "route del 172.24.4.163/32 table 200 proto 240",
      "route del 10.0.0.64/26 table 200 proto 240",
      "route del 172.24.4.163/32 table 10 proto 240",
      "route del 2001:db8::20/128 table 10 proto 240 metric 1024",
    ]);
    assert.deepEqual(lines(ops, "ip6"), [
      "rule del to 2001:db8::20/128 lookup 200 priority 32000 protocol 240",
    ]);
  });

  it("never deletes or changes foreign objects, and prunes our own", () => {
    const base: ObservedKernel = {
      ...emptyObserved(["br-ex", "eth0", "bgp-nic", "old-vlan"]),
      links: [
        { name: "br-ex", kind: "bridge", up: true },
        { name: "eth0", kind: "veth", up: true },
        { name: "bgp-nic", kind: "dummy", up: true },
        { name: "old-vlan", kind: "vlan", up: true, alias: OWNER_ALIAS, parent: "br-ex", vlanId: 7 },
        { name: "their-vlan", kind: "vlan", up: true, parent: "br-ex", vlanId: 8 },
      ],
      addresses: [
        { dev: "br-ex", cidr: "192.0.2.1/24", family: 4, scope: "global" },
        { dev: "br-ex", cidr: "169.254.1.1/32", family: 4, scope: "global" },
        { dev: "br-ex", cidr: "fe80::1/64", family: 6, scope: "link" },
        { dev: "bgp-nic", cidr: "172.24.4.5/32", family: 4, scope: "global" },
        { dev: "bgp-nic", cidr: "fe80::2/64", family: 6, scope: "link" },
        // Helper-shaped, but on a device the agent never put helpers on: the operator's.
        { dev: "eth0", cidr: "169.254.1.1/32", family: 4, scope: "global" },
        { dev: "eth0", cidr: "fd53:d91e:400:7f17::1:1/128", family: 6, scope: "global" },
      ],
      rules: [
        { family: 4, priority: 32000, to: "172.24.4.92/32", table: 200, protocol: 4 },
        { family: 4, priority: 100, to: "172.24.4.92/32", table: 200, protocol: 0 },
        { family: 4, priority: 32000, to: "172.24.4.99/32", table: 200, protocol: PROTO },
      ],
      routes: [{ family: 4, table: 200, dst: "172.24.4.99/32", dev: "br-ex", scope: "link" }],
      neighbours: [
        { family: 4, dev: "br-ex", ip: "172.24.4.1", mac: "00:00:5e:00:01:01", protocol: 0 },
        { family: 4, dev: "br-ex", ip: "172.24.4.99", mac: "00:00:5e:00:01:02", protocol: PROTO },
      ],
      ndpProxies: [{ dev: "br-ex", ip: "2001:db8::1", protocol: 0 }],
    };
    const empty: KernelState = {
      links: [],
      addresses: [],
      rules: [],
      routes: [],
      neighbours: [],
      ndpProxies: [],
      sysctls: [],
    };
    // br-ex held the agent's helpers earlier in this run (a bridge mapping since removed).
    const ops = diffKernel(empty, base, { ...OPTS, helperDevices: new Set(["br-ex"]) });
    assert.deepEqual(lines(ops, "link"), ["link del dev old-vlan"]);
    assert.deepEqual(lines(ops, "ip"), [
      "rule del to 172.24.4.99/32 lookup 200 priority 32000 protocol 240",
      "neigh del 172.24.4.99 dev br-ex",
      "route del 172.24.4.99/32 table 200 proto 240",
      "address del 169.254.1.1/32 dev br-ex",
      "address del 172.24.4.5/32 dev bgp-nic",
    ]);
    assert.deepEqual(lines(ops, "ip6"), []);
    // Without that history a helper-shaped address is nobody's business: left alone everywhere.
    assert.ok(!lines(diffKernel(empty, base, OPTS), "ip").some((l) => l.startsWith("address del 169.254")));
  });

  it("adds our rule beside an identical foreign one (the kernel keeps both)", () => {
    const d = seedState({ crLrp: false });
    const base = {
      ...observedAfter({ ...d, rules: [] }),
      rules: [{ family: 4 as const, priority: 32000, to: "172.24.4.92/32", table: 200, protocol: 4 }],
    };
    const ops = diffKernel(d, base, OPTS);
    assert.deepEqual(lines(ops, "ip"), ["rule add to 172.24.4.92/32 lookup 200 priority 32000 protocol 240"]);
  });

  it("blocks items on a missing device with a clear error and keeps the rest", () => {
    const d = seedState();
    const withBad: KernelState = {
      ...d,
      neighbours: [
        ...d.neighbours,
        { family: 4, dev: "nosuch0", ip: "172.24.4.200", mac: "fa:16:3e:00:00:01" },
      ],
    };
    const ops = diffKernel(withBad, emptyObserved(), OPTS);
    assert.deepEqual(ops.blocked, [
      { kind: "neighbour", key: "nosuch0|172.24.4.200", op: "add", error: "device nosuch0 does not exist" },
    ]);
    assert.equal(ops.ops.length, diffKernel(d, emptyObserved(), OPTS).ops.length);
  });

  it("refuses hostile values per item; no value can reach the batch as syntax", () => {
    const d = seedState();
    const hostile: KernelState = {
      ...d,
      addresses: [...d.addresses, { dev: "br-ex\nlink del dev eth0", cidr: "10.9.9.9/32", family: 4 }],
      rules: [
        ...d.rules,
        { family: 4, priority: 32000, to: "10.1.1.1/32 lookup 254; rule flush", table: 200 },
      ],
      routes: [
        ...d.routes,
        { family: 4, table: 200, dst: "10.2.2.0/24", dev: "br-ex", via: '1.1.1.1" #', scope: "global" },
      ],
      neighbours: [
        ...d.neighbours,
        { family: 4, dev: "br-ex", ip: "10.3.3.3", mac: "fa:16:3e:00:00:01\nreboot" },
      ],
      ndpProxies: [...d.ndpProxies, { dev: "br ex", ip: "2001:db8::99" }],
      sysctls: [...d.sysctls, { key: "net.ipv4.conf.br-ex.proxy_arp\nx", value: "1" }],
      links: [{ kind: "vlan", name: "v;rm", parent: "br-ex", vlanId: 5 }],
    };
    const ops = diffKernel(hostile, emptyObserved(), OPTS);
    assert.equal(ops.blocked.length, 7);
    for (const b of ops.blocked) assert.match(b.error, /invalid /, b.key);
    assert.ok(ops.blocked.some((b) => b.kind === "address" && b.error.includes("br-ex\\nlink del dev eth0")));
    // Everything valid is still there, and every line is made of safe tokens only.
    assert.equal(ops.ops.length, diffKernel(d, emptyObserved(), OPTS).ops.length);
    for (const l of [...lines(ops, "ip"), ...lines(ops, "ip6"), ...lines(ops, "link")])
      assert.match(l, /^[A-Za-z0-9 _.:/-]+$/, l);
  });

  it("leaves a foreign permanent neighbour alone: same MAC satisfies, another MAC is a conflict", () => {
    const d = seedState({ providerVm: false, tenantSubnet: false });
    const after = observedAfter(d);
    const foreign = {
      family: 4 as const,
      dev: "br-ex",
      ip: "172.24.4.163",
      mac: "fa:16:3e:bf:93:93",
      protocol: 0,
    };
    const same = { ...after, neighbours: [foreign] };
    assert.deepEqual(diffKernel(d, same, OPTS).ops, []);
    const other = { ...after, neighbours: [{ ...foreign, mac: "fa:16:3e:00:00:09" }] };
    const ops = diffKernel(d, other, OPTS);
    assert.deepEqual(ops.ops, []);
    assert.equal(ops.blocked.length, 1);
    assert.match(ops.blocked[0]?.error ?? "", /not ours .*left untouched/);
  });

  it("replaces our own route or neighbour when an attribute changed (IPv6 scope is not one)", () => {
    const d = seedState({ providerVm: false });
    const after = observedAfter(d);
    const changed: ObservedKernel = {
      ...after,
      routes: after.routes.map((r) => (r.via ? { ...r, via: "172.24.4.1" } : r)),
      neighbours: after.neighbours.map((n) => ({ ...n, mac: "fa:16:3e:00:00:01" })),
    };
    assert.deepEqual(lines(diffKernel(d, changed, OPTS), "ip"), [
      "route replace 10.0.0.64/26 via 172.24.4.163 dev br-ex table 200 proto 240 scope global",
      "neigh replace 172.24.4.163 lladdr fa:16:3e:bf:93:93 dev br-ex nud permanent protocol 240",
    ]);
  });

  it("devices: conflict on another kind, recreate ours (never theirs) on an immutable change, one message when unsupported", () => {
    const d = seedState({ layout: "vrf" });
    const after = observedAfter(d);
    const wrongKind = {
      ...after,
      links: after.links.map((l) => (l.name === "bgp-vrf" ? { ...l, kind: "bridge" } : l)),
    };
    const c = diffKernel(d, wrongKind, OPTS);
    assert.match(
      c.blocked.find((b) => b.key === "bgp-vrf")?.error ?? "",
      /exists as bridge, not vrf; left untouched/,
    );
    const wrongTable = {
      ...after,
      links: after.links.map((l) => (l.name === "bgp-vrf" ? { ...l, vrfTable: 11 } : l)),
    };
    assert.deepEqual(lines(diffKernel(d, wrongTable, OPTS), "link"), [
      "link del dev bgp-vrf",
      "link add name bgp-vrf type vrf table 10",
      `link set dev bgp-vrf alias ${OWNER_ALIAS} up`,
    ]);
    // The operator's VRF (no alias) with another table is adopted by name only: reported, never recreated.
    const theirs = {
      ...after,
      links: after.links.map((l) => (l.name === "bgp-vrf" ? { ...l, vrfTable: 11, alias: undefined } : l)),
    };
    const t = diffKernel(d, theirs, OPTS);
    assert.deepEqual(lines(t, "link"), []);
    assert.match(
      t.blocked.find((b) => b.key === "bgp-vrf")?.error ?? "",
      /VRF table 11 .*not created by ovn-bgp/,
    );
    // Leaving the vrf layout deletes our VRF: the agent lets FRR drop its instance first.
    const leaving = diffKernel(seedState({ layout: "table" }), after, OPTS);
    assert.ok(deletesVrf(leaving.ops), "a VRF deletion is recognisable");
    assert.ok(!deletesVrf(diffKernel(d, after, OPTS).ops));
    const unsupported = { ...emptyObserved(), unsupportedLinkKinds: new Set(["vrf", "dummy"]) };
    const u = diffKernel(d, unsupported, OPTS);
    assert.equal(u.problems.length, 1);
    assert.match(u.problems[0] ?? "", /set announce_via = table/);
    assert.deepEqual(lines(u, "link"), []);
    assert.ok(u.blocked.some((b) => b.key === "bgp-nic|172.24.4.92/32" && /does not exist/.test(b.error)));
    assert.ok(lines(u, "ip").length > 0, "everything else is still applied");
  });

  it("sysctls: written only when different, blocked when the device is missing", () => {
    const d = seedState();
    const after = observedAfter(d);
    const off = { ...after, sysctls: new Map([...after.sysctls].map(([k]) => [k, "0"])) };
    assert.equal(diffKernel(d, off, OPTS).ops.filter((o) => o.kind === "sysctl").length, 2);
    const withVlan: KernelState = {
      ...d,
      sysctls: [{ key: "net.ipv4.conf.br-ex.100.proxy_arp", value: "1" }],
    };
    const ops = diffKernel(withVlan, after, OPTS);
    assert.deepEqual(ops.blocked, [
      {
        kind: "sysctl",
        key: "net.ipv4.conf.br-ex.100.proxy_arp",
        op: "replace",
        error: "device br-ex.100 does not exist",
      },
    ]);
  });

  it("drop-in files: rewritten only when their content changes", () => {
    const d = seedState();
    const after = observedAfter(d);
    const withProtos = { ...OPTS, rtProtosDropin: "/tmp/x/protos.conf" };
    const first = diffKernel(d, after, withProtos).ops;
    assert.deepEqual(
      first.map((o) => [o.kind, o.op, o.file?.content]),
      [
        [
          "file",
          "add",
          `# Managed by ovn-bgp: rewritten on every change; edits are lost.\n${PROTO}\tovn-bgp\n`,
        ],
      ],
    );
    const files = new Map([...after.files, ["/tmp/x/protos.conf", first[0]?.file?.content]]);
    assert.deepEqual(diffKernel(d, { ...after, files }, withProtos).ops, []);
  });
});
