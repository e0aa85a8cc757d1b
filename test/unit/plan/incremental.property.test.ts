/**
 * PROPERTY: applying random sequences of Southbound changes incrementally gives the same plan
 * as computing from scratch on the final state, and each PlanDelta turns the previous entry set
 * into the next one. The incrementally kept desired kernel objects (DesiredKernel, what the
 * applier's delta path reads) equal the flattened plan after every batch, and every key whose
 * object changed is among the keys the delta says it touched. Rows are drawn from small pools of names, datapaths, chassis and addresses
 * so that random rows often link up into real topologies (peers, gateways, FIPs, localnets),
 * with some malformed values mixed in.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { AgentConfig } from "../../../src/config/agent-config.ts";
import type { Row } from "../../../src/ovsdb/wire/datum.ts";
import { DesiredKernel } from "../../../src/plan/desired-kernel.ts";
import {
  flattenPlan,
  type KernelState,
  keyAddress,
  keyNdpProxy,
  keyNeighbour,
  keyRoute,
  keyRule,
  type PlanEntry,
} from "../../../src/plan/desired-state.ts";
import { Planner, planFromScratch } from "../../../src/plan/planner.ts";
import { cloneTables, diffTables } from "../../fixtures/sb-changes.ts";
import { chassisRow, portRow, type SbTables } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";

const NAMES = [
  "vm1",
  "vm2",
  "vmt",
  "lrp-a",
  "cr-lrp-a",
  "lsp-a",
  "lrp-b",
  "lsp-b",
  "ln",
  "ln2",
  "gw-r",
  'bad"name',
];
const TYPES = [
  "",
  "",
  "virtual",
  "patch",
  "patch",
  "chassisredirect",
  "localnet",
  "l3gateway",
  "localport",
  "bogus",
];
const DPS = ["dpP", "dpR", "dpT", "dpQ"];
const CHASSIS = ["chA", "chB", "chGone"];
const MACS: string[][] = [
  [],
  ["fa:16:3e:00:00:01 172.24.4.10 2001:db8::10"],
  ["fa:16:3e:00:00:02 10.0.0.65/26"],
  ["fa:16:3e:bf:93:93 172.24.4.163/24 2001:db8::20/64"],
  ["fa:16:3e:00:00:04 2001:db8:1::1/64 10.0.1.1/24"],
  ["unknown"],
  ["router"],
  ["fa:16:3e:00:00:03 10.0.0.7"],
  ["fa:16:3e:00:00:05 10.0.1.9 2001:db8:1::9"],
  ["not-a-mac 1.2.3.4"],
];
const NATS: string[][] = [
  [],
  ['fa:16:3e:00:00:09 172.24.4.79 is_chassis_resident("vmt")'],
  ['fa:16:3e:bf:93:93 172.24.4.163 172.24.4.80 is_chassis_resident("cr-lrp-a")'],
  ["fa:16:3e:00:00:0a 172.24.4.81"],
  ["garbage", 'fa:16:3e:00:00:09 172.24.4.82 is_chassis_resident("vm2")'],
];
const EXT: Array<Record<string, string>> = [
  {},
  { "neutron:cidrs": "10.0.0.7/26 2001:db8:1::7/64" },
  { "neutron:subnet_pool_addr_scope4": "s4", "neutron:subnet_pool_addr_scope6": "s6" },
  { "neutron:cidrs": "10.0.0.300/26" },
];

const portArb = fc.record({
  logical_port: fc.constantFrom(...NAMES),
  type: fc.constantFrom(...TYPES),
  datapath: fc.constantFrom(...DPS),
  mac: fc.constantFrom(...MACS),
  chassis: fc.option(fc.constantFrom(...CHASSIS), { nil: undefined }),
  up: fc.option(fc.boolean(), { nil: undefined }),
  peer: fc.option(fc.constantFrom(...NAMES), { nil: undefined }),
  network: fc.option(fc.constantFrom("public", "other"), { nil: undefined }),
  distributed: fc.option(fc.constantFrom("lrp-a", "lrp-b", "gw-r"), { nil: undefined }),
  nat: fc.constantFrom(...NATS),
  tag: fc.option(fc.constantFrom(100, 4000), { nil: undefined }),
  pinned: fc.boolean(),
  ext: fc.constantFrom(...EXT),
});

const opArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant("port" as const), slot: fc.nat(13), port: portArb }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delport" as const), slot: fc.nat(13) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("chassis" as const),
      uuid: fc.constantFrom(...CHASSIS),
      name: fc.option(fc.constantFrom("me", "other"), { nil: undefined }),
    }),
  },
);

type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function applyOp(t: SbTables, op: Op): void {
  if (op.kind === "chassis") {
    const ch = t.get("Chassis") as Map<string, Row>;
    if (op.name === undefined) ch.delete(op.uuid);
    else ch.set(op.uuid, chassisRow(op.uuid, op.name));
    return;
  }
  const ports = t.get("Port_Binding") as Map<string, Row>;
  const uuid = `pb-${op.slot}`;
  if (op.kind === "delport") {
    ports.delete(uuid);
    return;
  }
  const p = op.port;
  const options: Record<string, string> = {};
  if (p.peer !== undefined) options.peer = p.peer;
  if (p.network !== undefined) options.network_name = p.network;
  if (p.distributed !== undefined) options["distributed-port"] = p.distributed;
  if (p.pinned) options["l3gateway-chassis"] = "me";
  ports.set(
    uuid,
    portRow(uuid, {
      logical_port: p.logical_port,
      type: p.type,
      datapath: p.datapath,
      mac: p.mac,
      ...(p.chassis !== undefined ? { chassis: p.chassis } : {}),
      ...(p.up !== undefined ? { up: p.up } : {}),
      options,
      external_ids: p.ext,
      nat_addresses: p.nat,
      ...(p.tag !== undefined ? { tag: p.tag } : {}),
    }),
  );
}

const configArb = fc.record({
  expose_tenant_networks: fc.boolean(),
  expose_ipv6_gua_tenant_networks: fc.boolean(),
  advertisement_method_tenant_networks: fc.constantFrom("ip" as const, "subnet" as const),
  address_scopes: fc.constantFrom([], ["s4"], ["s4", "s6"]),
  announce_via: fc.constantFrom("vrf" as const, "table" as const),
  ip_rule_layout: fc.constantFrom("per-ip" as const, "per-bridge" as const),
});

const FACTS = {
  chassisName: "me",
  bridgeMappings: [
    { network: "public", bridge: "br-ex" },
    { network: "other", bridge: "br-other" },
  ],
  bridges: new Map([["br-ex", { mac: "aa:bb:cc:00:00:01", patchPorts: ["patch-provnet-1-to-br-int"] }]]),
};

function empty(): SbTables {
  return new Map([
    ["Chassis", new Map([["chA", chassisRow("chA", "me")]])],
    ["Port_Binding", new Map()],
  ]);
}

const KINDS = [
  ["address", "addresses"],
  ["rule", "rules"],
  ["route", "routes"],
  ["neighbour", "neighbours"],
  ["ndp-proxy", "ndpProxies"],
] as const;

/** One kind's objects by the key the applier uses (JSON of the object as the value). */
function keyed(s: KernelState, field: (typeof KINDS)[number][1]): Map<string, string> {
  const keyOf = {
    addresses: keyAddress,
    rules: keyRule,
    routes: keyRoute,
    neighbours: keyNeighbour,
    ndpProxies: keyNdpProxy,
  }[field] as (o: unknown) => string;
  return new Map((s[field] as readonly unknown[]).map((o) => [keyOf(o), JSON.stringify(o)]));
}

const byId = (es: readonly PlanEntry[]) => new Map(es.map((e) => [e.id, JSON.stringify(e)]));

describe("incremental planning (property)", () => {
  it("random change sequences: incremental == scratch, deltas are exact", () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 25 }),
        (cfgOverrides, batches) => {
          const config: AgentConfig = testConfig(cfgOverrides);
          let tables = empty();
          const planner = new Planner(config, FACTS);
          planner.load(tables);
          const kernel = DesiredKernel.of(planner.state());
          for (const batch of batches) {
            const next = cloneTables(tables);
            for (const op of batch) applyOp(next, op);
            const before = byId(planner.state().entries);
            const delta = planner.apply(diffTables(tables, next));
            tables = next;
            const after = planner.state();
            const flatBefore = kernel.toKernelState();
            const touched = kernel.apply(delta, after);
            const flatAfter = flattenPlan(after);
            assert.deepEqual(kernel.toKernelState(), flatAfter);
            for (const [kind, field] of KINDS) {
              const was = keyed(flatBefore, field);
              const now = keyed(flatAfter, field);
              for (const k of new Set([...was.keys(), ...now.keys()]))
                if (was.get(k) !== now.get(k))
                  assert.ok(touched.get(kind)?.has(k), `${kind} ${k} changed but was not touched`);
            }
            // The delta turns the previous entry set into the new one.
            for (const e of delta.removed) {
              assert.equal(before.get(e.id), JSON.stringify(e));
              before.delete(e.id);
            }
            for (const e of delta.added) before.set(e.id, JSON.stringify(e));
            assert.deepEqual(before, byId(after.entries));
            assert.deepEqual(after, planFromScratch(config, FACTS, tables));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
