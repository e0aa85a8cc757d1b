/**
 * The kernel applier against a real kernel, in throwaway namespaces with a Linux bridge br-ex: the
 * seed's objects are installed as the seed lists them, a second sync does nothing, withdrawal is
 * complete, foreign objects survive every sync, and a partial failure names exactly its items.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, describe, it } from "node:test";
import type { KernelState } from "../../../src/plan/desired-state.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ANNOUNCE_TABLE, PROTO, seedState, TABLE } from "../../unit/kernel/seed-state.ts";
import {
  addressList,
  type KernelLab,
  kernelLab,
  neighLines,
  proxyLines,
  routeLines,
  ruleList,
  sysctlValue,
} from "./kernel-helpers.ts";

const skip = netnsUnavailable();
const labs: KernelLab[] = [];
after(async () => {
  for (const l of labs) await l.ns.remove();
});
async function lab(): Promise<KernelLab> {
  const l = await kernelLab();
  labs.push(l);
  return l;
}

const EMPTY: KernelState = {
  links: [],
  addresses: [],
  rules: [],
  routes: [],
  neighbours: [],
  ndpProxies: [],
  sysctls: [],
};

/** What the seed lists on rack-1-host-1/-2, with our protocol in place of the upstream's. */
const SEED_RULES4 = [
  `32000 to 10.0.0.64/26 table ${TABLE} proto ${PROTO}`,
  `32000 to 172.24.4.163/32 table ${TABLE} proto ${PROTO}`,
  `32000 to 172.24.4.92/32 table ${TABLE} proto ${PROTO}`,
];
const SEED_RULES6 = [
  `32000 to 2001:db8::20/128 table ${TABLE} proto ${PROTO}`,
  `32000 to 2001:db8::21c/128 table ${TABLE} proto ${PROTO}`,
];
const SEED_ROUTES4 = [
  `10.0.0.64/26 via 172.24.4.163 dev br-ex proto ${PROTO}`,
  `172.24.4.163 dev br-ex proto ${PROTO} scope link`,
  `default dev br-ex proto ${PROTO} scope link`,
];

describe("kernel applier (real kernel)", { skip }, () => {
  it("installs the seed's objects as the seed lists them; a second sync issues zero operations", async () => {
    const l = await lab();
    const first = await l.applier.sync(seedState());
    assert.deepEqual(
      first.items.filter((i) => !i.ok),
      [],
    );
    assert.equal(first.problems.length, 0);

    assert.deepEqual(await ruleList(l, 4), SEED_RULES4);
    assert.deepEqual(await ruleList(l, 6), SEED_RULES6);
    assert.deepEqual(await routeLines(l, 4, TABLE), SEED_ROUTES4);
    assert.deepEqual(await routeLines(l, 6, TABLE), [
      `default dev br-ex proto ${PROTO} metric 1024 pref medium`,
    ]);
    assert.deepEqual(await routeLines(l, 4, ANNOUNCE_TABLE), [
      `172.24.4.163 dev br-ex proto ${PROTO} scope link`,
      `172.24.4.92 dev br-ex proto ${PROTO} scope link`,
    ]);
    assert.equal((await routeLines(l, 6, ANNOUNCE_TABLE)).length, 2);
    assert.deepEqual(await neighLines(l), [
      `172.24.4.163 dev br-ex lladdr fa:16:3e:bf:93:93 PERMANENT proto ${PROTO}`,
    ]);
    assert.deepEqual(await proxyLines(l), [`2001:db8::20 dev br-ex proxy proto ${PROTO}`]);
    assert.deepEqual(await addressList(l, "br-ex"), ["169.254.1.1/32", "fd53:d91e:400:7f17::1:1/128"]);
    assert.equal(await sysctlValue(l, "net/ipv4/conf/br-ex/proxy_arp"), "1");
    assert.equal(await sysctlValue(l, "net/ipv6/conf/br-ex/proxy_ndp"), "1");
    assert.match(await readFile(l.rtTables, "utf8"), /^10\tovn-bgp-announce\n200\tbr-ex\n$/m);
    assert.match(await readFile(l.rtProtos, "utf8"), new RegExp(`^${PROTO}\\tovn-bgp$`, "m"));

    const second = await l.applier.sync(seedState());
    assert.equal(second.counts.ops, 0);
    assert.deepEqual(second.items, []);
    assert.equal(second.processes, 0);
    assert.deepEqual(second.batches, { link: "", ip: "", ip6: "" });
  });

  it("withdraws an exposure completely, even when an optional object is already gone", async () => {
    const l = await lab();
    await l.applier.sync(seedState());
    // The upstream bug: the neighbour vanished before the unbind; its delete must not block the rest.
    const stale = await l.applier.observe(seedState());
    await l.ip("neigh del 172.24.4.163 dev br-ex");
    await l.ip("-6 neigh del proxy 2001:db8::20 dev br-ex");
    const withdraw = seedState({ crLrp: false });
    const report = await l.applier.apply(l.applier.diff(withdraw, stale));
    assert.deepEqual(
      report.items.filter((i) => !i.ok),
      [],
    );
    assert.ok(report.items.some((i) => i.kind === "neighbour" && i.op === "del" && i.ok));

    assert.deepEqual(await ruleList(l, 4), [`32000 to 172.24.4.92/32 table ${TABLE} proto ${PROTO}`]);
    assert.deepEqual(await ruleList(l, 6), [`32000 to 2001:db8::21c/128 table ${TABLE} proto ${PROTO}`]);
    assert.deepEqual(await routeLines(l, 4, TABLE), [`default dev br-ex proto ${PROTO} scope link`]);
    assert.deepEqual(await routeLines(l, 4, ANNOUNCE_TABLE), [
      `172.24.4.92 dev br-ex proto ${PROTO} scope link`,
    ]);
    assert.deepEqual(await neighLines(l), []);
    assert.deepEqual(await proxyLines(l), []);
    assert.equal((await l.applier.sync(withdraw)).counts.ops, 0);

    // Everything withdrawn: our rules, routes and helper addresses are gone.
    await l.applier.sync(EMPTY);
    assert.deepEqual(await ruleList(l, 4), []);
    assert.deepEqual(await ruleList(l, 6), []);
    assert.deepEqual(await routeLines(l, 4, TABLE), []);
    assert.deepEqual(await routeLines(l, 6, TABLE), []);
    assert.deepEqual(await addressList(l, "br-ex"), []);
  });

  it("never deletes or changes foreign rules, routes, neighbours, proxies or addresses", async () => {
    const l = await lab();
    const foreign = [
      "rule add to 172.24.4.92 lookup 200 priority 100",
      "rule add to 172.24.4.92 lookup 200 priority 32000 protocol static",
      "rule add to 198.51.100.7 lookup 200 priority 32000 protocol boot",
      "-6 rule add to 2001:db8::21c lookup 200 priority 32000 protocol static",
      "route add 198.51.100.0/24 dev br-ex table 200 proto static",
      "route add 203.0.113.0/24 dev br-ex table 200 proto boot",
      "route add 203.0.113.0/24 dev br-ex table 10 proto static",
      "neigh add 172.24.4.1 lladdr 00:00:5e:00:01:01 dev br-ex nud permanent",
      "neigh add 172.24.4.2 lladdr 00:00:5e:00:01:02 dev br-ex nud permanent protocol static",
      "-6 neigh add proxy 2001:db8::1 dev br-ex",
      "address add 192.0.2.1/24 dev br-ex",
      "address add 169.254.9.8/32 dev br-ex",
    ];
    for (const f of foreign) await l.ip(f);
    const snapshot = async () => ({
      rules4: (await ruleList(l, 4)).filter((r) => !r.endsWith(`proto ${PROTO}`)),
      rules6: (await ruleList(l, 6)).filter((r) => !r.endsWith(`proto ${PROTO}`)),
      routes200: (await routeLines(l, 4, TABLE)).filter((r) => !r.includes(`proto ${PROTO}`)),
      routes10: (await routeLines(l, 4, ANNOUNCE_TABLE)).filter((r) => !r.includes(`proto ${PROTO}`)),
      neigh: (await neighLines(l)).filter((r) => !r.includes(`proto ${PROTO}`)),
      proxy: (await proxyLines(l)).filter((r) => !r.includes(`proto ${PROTO}`)),
      addrs: (await addressList(l, "br-ex")).filter((a) => a === "192.0.2.1/24" || a === "169.254.9.8/32"),
    });
    const before = await snapshot();
    assert.equal(before.rules4.length, 3);
    assert.equal(before.neigh.length, 2);
    assert.equal(before.addrs.length, 2);

    const states = [seedState(), seedState({ crLrp: false }), EMPTY, seedState(), EMPTY];
    for (const [i, s] of states.entries()) {
      const r = await l.applier.sync(s);
      assert.deepEqual(
        r.items.filter((x) => !x.ok),
        [],
        `sync ${i}`,
      );
      assert.deepEqual(await snapshot(), before, `foreign objects after sync ${i}`);
    }
    // And our own objects came and went beside them.
    assert.deepEqual(
      (await ruleList(l, 4)).filter((r) => r.endsWith(`proto ${PROTO}`)),
      [],
    );
    await l.applier.sync(seedState());
    assert.deepEqual(
      (await ruleList(l, 4)).filter((r) => r.endsWith(`proto ${PROTO}`)),
      SEED_RULES4,
    );
  });

  it("a neighbour on a missing device fails alone with a clear error; every other item is applied", async () => {
    const l = await lab();
    const d = seedState();
    const withBad: KernelState = {
      ...d,
      neighbours: [
        ...d.neighbours,
        { family: 4, dev: "nosuch0", ip: "172.24.4.200", mac: "fa:16:3e:00:00:01" },
      ],
    };
    const report = await l.applier.sync(withBad);
    assert.deepEqual(
      report.items.filter((i) => !i.ok),
      [
        {
          kind: "neighbour",
          key: "nosuch0|172.24.4.200",
          op: "add",
          ok: false,
          error: "device nosuch0 does not exist",
        },
      ],
    );
    assert.deepEqual(await ruleList(l, 4), SEED_RULES4);
    assert.deepEqual(await routeLines(l, 4, TABLE), SEED_ROUTES4);
    assert.equal((await neighLines(l)).length, 1);
  });

  it("maps kernel errors inside one batch back to exactly the failing items", async () => {
    const l = await lab();
    await l.ip("link add gone0 type bridge");
    await l.ip("link set gone0 up");
    const d = seedState();
    const withGone: KernelState = {
      ...d,
      routes: [...d.routes, { family: 4, table: TABLE, dst: "192.0.2.0/28", dev: "gone0", scope: "link" }],
      neighbours: [...d.neighbours, { family: 4, dev: "gone0", ip: "192.0.2.5", mac: "fa:16:3e:00:00:05" }],
    };
    // The device disappears between observe and apply: the diff cannot know, the batch must say.
    const observed = await l.applier.observe(withGone);
    await l.ip("link del gone0");
    const report = await l.applier.apply(l.applier.diff(withGone, observed));
    const failed = report.items.filter((i) => !i.ok);
    assert.deepEqual(failed.map((i) => `${i.kind} ${i.key}`).sort(), [
      `neighbour gone0|192.0.2.5`,
      `route 4|${TABLE}|192.0.2.0/28`,
    ]);
    for (const f of failed) assert.match(f.error ?? "", /Cannot find device "gone0"/);
    assert.equal(report.processes, 4, "one batch, one IPv6-rule batch, sysctl write + read-back");
    assert.deepEqual(await ruleList(l, 4), SEED_RULES4);
    assert.deepEqual(await routeLines(l, 4, TABLE), SEED_ROUTES4);
  });
});
