/**
 * A change to one row recomputes only the rows it can affect (not the whole table), and the
 * planner's tenantDatapaths() tells the SB monitor which tenant datapaths to replicate.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Row } from "../../../src/ovsdb/wire/datum.ts";
import { Planner } from "../../../src/plan/planner.ts";
import { portRow, SEED, seedFacts, seedSouthbound } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";

const S = SEED;

/** The seed plus 500 provider VMs bound elsewhere and 500 tenant VMs. */
function bigSeed() {
  const t = seedSouthbound();
  const ports = t.get("Port_Binding") as Map<string, Row>;
  for (let i = 0; i < 500; i++) {
    ports.set(
      `pv-${i}`,
      portRow(`pv-${i}`, {
        logical_port: `pv-${i}`,
        datapath: S.datapaths.public,
        mac: [`fa:16:3e:00:01:${(i % 250).toString(16).padStart(2, "0")} 172.24.5.${i % 250}`],
        chassis: S.chassis.tenant.uuid,
        up: true,
      }),
    );
    ports.set(
      `tv-${i}`,
      portRow(`tv-${i}`, {
        logical_port: `tv-${i}`,
        datapath: S.datapaths.private,
        mac: [`fa:16:3e:00:02:${(i % 250).toString(16).padStart(2, "0")} 10.0.0.${66 + (i % 60)}`],
        chassis: S.chassis.tenant.uuid,
        up: true,
      }),
    );
  }
  return t;
}

function update(t: ReturnType<typeof bigSeed>, uuid: string, cols: Record<string, unknown>) {
  const ports = t.get("Port_Binding") as Map<string, Row>;
  const old = ports.get(uuid) as Row;
  const next = { ...old, ...cols } as Row;
  ports.set(uuid, next);
  return { kind: "update" as const, table: "Port_Binding", uuid, old, new: next };
}

describe("incrementality", () => {
  it("a VM binding change recomputes that row only", () => {
    const t = bigSeed();
    const p = new Planner(testConfig(), seedFacts(S.chassis.provider.name));
    p.load(t);
    assert.ok(p.lastRecomputed > 1000);
    const d = p.apply([update(t, "pv-7", { chassis: [S.chassis.provider.uuid] })]);
    assert.equal(p.lastRecomputed, 1);
    assert.deepEqual(
      d.added.map((e) => e.id),
      ["provider-vm:pv-7"],
    );
  });

  it("a gateway failover recomputes the gateway, its router ports and the tenant VMs, not the provider VMs", () => {
    const t = bigSeed();
    const p = new Planner(testConfig(), seedFacts(S.chassis.gateway.name));
    p.load(t);
    p.apply([update(t, S.crlrp.uuid, { chassis: [S.chassis.provider.uuid] })]);
    assert.ok(p.lastRecomputed >= 500 && p.lastRecomputed < 520, String(p.lastRecomputed));
    assert.deepEqual(p.state().entries, []);
  });

  it("tenantDatapaths lists the tenant datapaths behind a local gateway", () => {
    const p = new Planner(testConfig(), seedFacts(S.chassis.gateway.name));
    p.load(seedSouthbound());
    assert.deepEqual(p.tenantDatapaths(), [S.datapaths.private]);
    const q = new Planner(testConfig(), seedFacts(S.chassis.tenant.name));
    q.load(seedSouthbound());
    assert.deepEqual(q.tenantDatapaths(), []);
  });
});
