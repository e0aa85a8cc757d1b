/**
 * Moves are first-class: after each step, the old chassis' plan has lost the objects, the new one
 * has gained them, the delta says so, and the incremental state equals a plan from scratch.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlanDelta } from "../../../src/plan/planner.ts";
import { Planner, planFromScratch } from "../../../src/plan/planner.ts";
import { withdrawEvent } from "../../../src/plan/render-plan.ts";
import { cloneTables, diffTables, patchRow } from "../../fixtures/sb-changes.ts";
import { chassisRow, type SbTables, SEED, seedFacts, seedSouthbound } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";

const S = SEED;
const NAMES = [S.chassis.gateway.name, S.chassis.provider.name, S.chassis.tenant.name];

class World {
  tables: SbTables = seedSouthbound();
  planners = new Map<string, Planner>();
  constructor() {
    for (const n of NAMES) {
      const p = new Planner(testConfig(), seedFacts(n));
      p.load(this.tables);
      this.planners.set(n, p);
    }
  }
  /** Apply an edit to the SB and feed the resulting changes to every chassis' planner. */
  step(edit: (t: SbTables) => void): Map<string, PlanDelta> {
    const next = cloneTables(this.tables);
    edit(next);
    const changes = diffTables(this.tables, next);
    this.tables = next;
    const deltas = new Map<string, PlanDelta>();
    for (const [n, p] of this.planners) {
      deltas.set(n, p.apply(changes));
      assert.deepEqual(
        p.state(),
        planFromScratch(testConfig(), seedFacts(n), next),
        `incremental ≠ scratch on ${n}`,
      );
    }
    return deltas;
  }
  ids(chassis: string): string[] {
    return (this.planners.get(chassis) as Planner).state().entries.map((e) => e.id);
  }
}

const ids = (es: readonly { id: string }[]) => es.map((e) => e.id);

describe("moves", () => {
  it("live migration: additional_chassis does not expose; moving `chassis` does, with nothing stale", () => {
    const w = new World();
    const vm = `provider-vm:${S.vm1.port}`;
    let d = w.step((t) =>
      patchRow(t, "Port_Binding", S.vm1.uuid, {
        additional_chassis: [S.chassis.tenant.uuid],
        options: { "requested-chassis": `${S.chassis.provider.name},${S.chassis.tenant.name}` },
      }),
    );
    assert.ok(w.ids(S.chassis.provider.name).includes(vm));
    assert.ok(!w.ids(S.chassis.tenant.name).includes(vm));
    assert.deepEqual(ids(d.get(S.chassis.tenant.name)?.added ?? []), []);

    d = w.step((t) =>
      patchRow(t, "Port_Binding", S.vm1.uuid, {
        chassis: [S.chassis.tenant.uuid],
        additional_chassis: [],
        options: { "requested-chassis": S.chassis.tenant.name },
      }),
    );
    assert.deepEqual(ids(d.get(S.chassis.provider.name)?.removed ?? []), [vm]);
    assert.deepEqual(ids(d.get(S.chassis.tenant.name)?.added ?? []), [vm]);
    assert.ok(!w.ids(S.chassis.provider.name).includes(vm));
    const removed = d.get(S.chassis.provider.name)?.removed[0];
    assert.equal(
      withdrawEvent(removed?.cause.event ?? "ProviderBridgeEvent"),
      "PortBindingChassisDeletedEvent",
    );
  });

  it("gateway failover moves the cr-lrp, the tenant subnet and the tenant VMs", () => {
    const w = new World();
    const moved = [
      `cr-lrp:${S.crlrp.port}`,
      `tenant-subnet:${S.tenantLrp.port}:10.0.0.64/26`,
      `tenant-vm:${S.vmTenant.port}`,
    ];
    const d = w.step((t) =>
      patchRow(t, "Port_Binding", S.crlrp.uuid, { chassis: [S.chassis.provider.uuid] }),
    );
    assert.deepEqual(ids(d.get(S.chassis.gateway.name)?.removed ?? []), moved);
    assert.deepEqual(ids(d.get(S.chassis.provider.name)?.added ?? []), moved);
    assert.deepEqual(w.ids(S.chassis.gateway.name), []);
  });

  it("router gateway removed: cr-lrp, subnet, tenant VMs and the FIP go away", () => {
    const w = new World();
    w.step((t) => {
      const pb = t.get("Port_Binding") as Map<string, unknown>;
      pb.delete(S.crlrp.uuid);
      pb.delete(S.gwLrp.uuid);
      pb.delete(S.gwLsp.uuid);
    });
    for (const n of NAMES)
      assert.deepEqual(
        w.ids(n).filter((i) => !i.startsWith("provider-vm")),
        [],
        n,
      );
    assert.deepEqual(w.ids(S.chassis.provider.name), [`provider-vm:${S.vm1.port}`]);
  });

  it("subnet detached: only the subnet and its VMs are withdrawn", () => {
    const w = new World();
    const d = w.step((t) => {
      const pb = t.get("Port_Binding") as Map<string, unknown>;
      pb.delete(S.tenantLrp.uuid);
      pb.delete(S.tenantLsp.uuid);
    });
    assert.deepEqual(ids(d.get(S.chassis.gateway.name)?.removed ?? []), [
      `tenant-subnet:${S.tenantLrp.port}:10.0.0.64/26`,
      `tenant-vm:${S.vmTenant.port}`,
    ]);
    assert.deepEqual(w.ids(S.chassis.gateway.name), [`cr-lrp:${S.crlrp.port}`]);
  });

  it("FIP re-associated to a VM on another chassis, then made centralized", () => {
    const w = new World();
    const nat = (resident: string) => [
      `${S.crlrp.mac} ${S.crlrp.ip4} is_chassis_resident("${S.crlrp.port}")`,
      `${S.fip.mac} ${S.fip.ip} is_chassis_resident("${resident}")`,
    ];
    let d = w.step((t) => patchRow(t, "Port_Binding", S.gwLsp.uuid, { nat_addresses: nat(S.vm1.port) }));
    assert.deepEqual(ids(d.get(S.chassis.tenant.name)?.removed ?? []), [
      `fip:${S.gwLsp.port}:${S.vmTenant.port}`,
    ]);
    assert.deepEqual(ids(d.get(S.chassis.provider.name)?.added ?? []), [`fip:${S.gwLsp.port}:${S.vm1.port}`]);
    // Centralized: the FIP is resident on the cr-lrp, so the gateway chassis exposes it.
    d = w.step((t) =>
      patchRow(t, "Port_Binding", S.gwLsp.uuid, {
        nat_addresses: [`${S.crlrp.mac} ${S.crlrp.ip4} ${S.fip.ip} is_chassis_resident("${S.crlrp.port}")`],
      }),
    );
    const added = d.get(S.chassis.gateway.name)?.added ?? [];
    assert.deepEqual(ids(added), [`fip:${S.gwLsp.port}:${S.crlrp.port}`]);
    // The cr-lrp's own address is its cr-lrp entry's, not a FIP.
    assert.deepEqual(added[0]?.advertised, [S.fip.ip]);
    assert.deepEqual(w.ids(S.chassis.provider.name), [`provider-vm:${S.vm1.port}`]);
  });

  it("the resident VM moving carries its distributed FIP along", () => {
    const w = new World();
    const d = w.step((t) =>
      patchRow(t, "Port_Binding", S.vmTenant.uuid, { chassis: [S.chassis.provider.uuid] }),
    );
    assert.deepEqual(ids(d.get(S.chassis.tenant.name)?.removed ?? []), [
      `fip:${S.gwLsp.port}:${S.vmTenant.port}`,
    ]);
    assert.deepEqual(ids(d.get(S.chassis.provider.name)?.added ?? []), [
      `fip:${S.gwLsp.port}:${S.vmTenant.port}`,
    ]);
    // The tenant VM entry on the gateway is unaffected by which chassis hosts the VM.
    assert.deepEqual(d.get(S.chassis.gateway.name)?.added, []);
  });

  it("port going down, chassis unbinding, and chassis row re-created", () => {
    const w = new World();
    let d = w.step((t) => patchRow(t, "Port_Binding", S.vm1.uuid, { up: [false] }));
    assert.equal(d.get(S.chassis.provider.name)?.removed.length, 1);
    w.step((t) => patchRow(t, "Port_Binding", S.vm1.uuid, { up: [true] }));
    assert.equal(w.ids(S.chassis.provider.name).length, 1);
    // ovn-controller re-registers: a new Chassis uuid with the same name; the VM re-binds to it.
    const fresh = "c0000000-0000-4000-8000-0000000000ff";
    d = w.step((t) => {
      const ch = t.get("Chassis") as Map<string, unknown>;
      ch.delete(S.chassis.provider.uuid);
      ch.set(fresh, chassisRow(fresh, S.chassis.provider.name));
      patchRow(t, "Port_Binding", S.vm1.uuid, { chassis: [] });
    });
    assert.deepEqual(w.ids(S.chassis.provider.name), []);
    w.step((t) => patchRow(t, "Port_Binding", S.vm1.uuid, { chassis: [fresh] }));
    assert.deepEqual(w.ids(S.chassis.provider.name), [`provider-vm:${S.vm1.port}`]);
  });

  it("setFacts: a new bridge mapping order re-numbers tables and reports the change", () => {
    const p = new Planner(testConfig(), seedFacts(S.chassis.provider.name));
    p.load(seedSouthbound());
    const d = p.setFacts(
      seedFacts(S.chassis.provider.name, {
        bridgeMappings: [
          { network: "other", bridge: "br-other" },
          { network: "public", bridge: "br-ex" },
        ],
      }),
    );
    assert.equal(d.hostChanged, true);
    assert.equal(d.added[0]?.rules[0]?.table, 201);
    assert.equal(d.removed[0]?.rules[0]?.table, 200);
  });
});
