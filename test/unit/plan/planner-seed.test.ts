/**
 * The seed's three walks, table-driven: for each chassis and config variant, which exposures
 * exist and which kernel objects they want, with the seed's addresses.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AgentConfig } from "../../../src/config/agent-config.ts";
import { type DesiredState, flattenPlan } from "../../../src/plan/desired-state.ts";
import { planFromScratch } from "../../../src/plan/planner.ts";
import { plainOvnSouthbound, SEED, seedFacts, seedSouthbound } from "../../fixtures/sb-seed.ts";
import { testConfig } from "../../fixtures/test-config.ts";

const S = SEED;
const GW = S.chassis.gateway.name;
const PROV = S.chassis.provider.name;
const TEN = S.chassis.tenant.name;

function plan(chassis: string, cfg: Partial<AgentConfig> = {}, tables = seedSouthbound()): DesiredState {
  return planFromScratch(testConfig(cfg), seedFacts(chassis), tables);
}

/** Compact view of an entry: "id | advertised | rules | routes | neighbours | ndp". */
function summary(state: DesiredState): string[] {
  return state.entries.map((e) =>
    [
      e.id,
      e.advertised.join(","),
      e.rules.map((r) => `${r.priority}:${r.to}>${r.table}`).join(","),
      e.routes.map((r) => `${r.table}:${r.dst}${r.via ? `via${r.via}` : ""}@${r.dev}`).join(","),
      e.neighbours.map((n) => `${n.ip}=${n.mac}@${n.dev}`).join(","),
      e.ndpProxies.map((n) => `${n.ip}@${n.dev}`).join(","),
    ].join(" | "),
  );
}

const CR = `cr-lrp:${S.crlrp.port}`;
const SUBNET = `tenant-subnet:${S.tenantLrp.port}:10.0.0.64/26`;
const TVM = `tenant-vm:${S.vmTenant.port}`;
const PVM = `provider-vm:${S.vm1.port}`;
const FIP = `fip:${S.gwLsp.port}:${S.vmTenant.port}`;

describe("seed plans per chassis (vrf layout)", () => {
  const cases: Array<{ chassis: string; cfg?: Partial<AgentConfig>; want: string[] }> = [
    {
      chassis: GW,
      want: [
        `${CR} | 172.24.4.163,2001:db8::20 | 32000:172.24.4.163/32>200,32000:2001:db8::20/128>200 | 200:172.24.4.163/32@br-ex,200:2001:db8::20/128@br-ex | 172.24.4.163=fa:16:3e:bf:93:93@br-ex,2001:db8::20=fa:16:3e:bf:93:93@br-ex | 2001:db8::@br-ex`,
        `${SUBNET} |  | 32000:10.0.0.64/26>200 | 200:10.0.0.64/26via172.24.4.163@br-ex |  | `,
        `${TVM} | 10.0.0.95 |  |  |  | `,
      ],
    },
    {
      chassis: PROV,
      want: [
        `${PVM} | 172.24.4.92,2001:db8::21c | 32000:172.24.4.92/32>200,32000:2001:db8::21c/128>200 | 200:172.24.4.92/32@br-ex,200:2001:db8::21c/128@br-ex |  | `,
      ],
    },
    {
      chassis: TEN,
      want: [`${FIP} | 172.24.4.79 | 32000:172.24.4.79/32>200 | 200:172.24.4.79/32@br-ex |  | `],
    },
    { chassis: "some-other-host", want: [] },
    // Tenant exposure off: the gateway keeps only its cr-lrp.
    { chassis: GW, cfg: { expose_tenant_networks: false }, want: [CR] },
    // GUA-only: the IPv4 tenant subnet and VM are not exposed.
    {
      chassis: GW,
      cfg: { expose_tenant_networks: false, expose_ipv6_gua_tenant_networks: true },
      want: [CR],
    },
    // Address scopes: the seed's subnet and VM are in scope…
    { chassis: GW, cfg: { address_scopes: [S.addressScope4] }, want: [CR, SUBNET, TVM] },
    // …and are filtered out by another scope.
    { chassis: GW, cfg: { address_scopes: ["another-scope"] }, want: [CR] },
    // "subnet" advertisement: the subnet is advertised, no per-VM entry.
    { chassis: GW, cfg: { advertisement_method_tenant_networks: "subnet" }, want: [CR, SUBNET] },
  ];
  for (const c of cases) {
    const label = `${c.chassis} ${JSON.stringify(c.cfg ?? {})}`;
    it(label, () => {
      const state = plan(c.chassis, c.cfg);
      const got = c.want.every((w) => w.includes(" | ")) ? summary(state) : state.entries.map((e) => e.id);
      assert.deepEqual(got, c.want);
      assert.deepEqual(state.problems, []);
    });
  }
});

describe("seed objects", () => {
  it("tenant VM addresses go on bgp_nic on the gateway chassis only", () => {
    const flat = flattenPlan(plan(GW));
    assert.ok(flat.addresses.some((a) => a.dev === "bgp-nic" && a.cidr === "10.0.0.95/32"));
    const tenantHost = flattenPlan(plan(TEN));
    assert.ok(!tenantHost.addresses.some((a) => a.cidr === "10.0.0.95/32"));
    assert.ok(tenantHost.addresses.some((a) => a.dev === "bgp-nic" && a.cidr === "172.24.4.79/32"));
  });

  it("causes carry the seed's events and logical ports", () => {
    const gw = plan(GW);
    assert.deepEqual(
      gw.entries.map((e) => [e.cause.event, e.cause.kind, e.cause.logicalPort]),
      [
        ["PortBindingChassisCreatedEvent", "cr-lrp", S.crlrp.port],
        ["SubnetRouterAttachedEvent", "tenant-subnet", S.tenantLrp.port],
        ["TenantPortCreatedEvent", "tenant-vm", S.vmTenant.port],
      ],
    );
    assert.deepEqual(plan(TEN).entries[0]?.cause, {
      event: "FIPSetEvent",
      kind: "fip",
      logicalPort: S.vmTenant.port,
    });
  });

  it("table layout: host routes in bgp_vrf_table_id instead of bgp_nic addresses, no VRF links", () => {
    const state = plan(PROV, { announce_via: "table" });
    const flat = flattenPlan(state);
    assert.ok(!flat.addresses.some((a) => a.dev === "bgp-nic"));
    assert.ok(!state.links.some((l) => l.kind === "vrf" || l.kind === "dummy"));
    const t10 = flat.routes.filter((r) => r.table === 10).map((r) => `${r.dst} dev ${r.dev} ${r.scope}`);
    assert.deepEqual(t10, ["172.24.4.92/32 dev br-ex link", "2001:db8::21c/128 dev br-ex link"]);
    // FRR 8.4 cannot import IPv6 from a table: the v6 host route is also in main, marked by metric.
    const main6 = flat.routes
      .filter((r) => r.table === 254)
      .map((r) => `${r.dst} dev ${r.dev} metric ${r.metric}`);
    assert.deepEqual(main6, ["2001:db8::21c/128 dev br-ex metric 1179"]);
    assert.deepEqual(state.frr, {
      asn: 64999,
      routerId: "172.30.1.1",
      layout: "table",
      importTable: 10,
      ipv6KernelMetric: 1179,
    });
  });

  it("vrf layout: dummy + vrf links and FRR intent", () => {
    const state = plan(PROV);
    assert.deepEqual(state.links, [
      { kind: "dummy", name: "bgp-nic", master: "bgp-vrf" },
      { kind: "vrf", name: "bgp-vrf", table: 10 },
    ]);
    assert.deepEqual(state.frr.vrf, { name: "bgp-vrf", table: 10 });
  });

  it("ports whose mac is unknown take their IPs from neutron:cidrs", () => {
    const t = seedSouthbound();
    const ports = t.get("Port_Binding") as Map<string, import("../../../src/ovsdb/wire/datum.ts").Row>;
    const vm1 = ports.get(S.vm1.uuid) as Record<string, unknown>;
    ports.set(S.vm1.uuid, { ...vm1, mac: ["unknown"] } as never);
    const e = plan(PROV, {}, t).entries[0];
    assert.deepEqual(e?.advertised, ["172.24.4.92", "2001:db8::21c"]);
  });
});

describe("plain OVN topology (ovn-nbctl, no neutron keys)", () => {
  const t = () => plainOvnSouthbound();
  it("gateway chassis: cr port, subnet from the router port's mac, tenant VM", () => {
    const state = plan(GW, {}, t());
    assert.deepEqual(
      state.entries.map((e) => e.id),
      ["cr-lrp:cr-lr0-public", "tenant-subnet:lr0-private:10.0.0.64/26", "tenant-vm:vm-tenant"],
    );
    assert.deepEqual(state.problems, []);
  });
  it("provider and tenant chassis", () => {
    assert.deepEqual(
      plan(PROV, {}, t()).entries.map((e) => e.id),
      ["provider-vm:vm1"],
    );
    assert.deepEqual(
      plan(TEN, {}, t()).entries.map((e) => [e.id, e.advertised]),
      [["fip:public-lr0:vm-tenant", ["172.24.4.79"]]],
    );
  });
  it("address scopes filter everything without neutron keys (as upstream)", () => {
    assert.deepEqual(
      plan(GW, { address_scopes: ["s"] }, t()).entries.map((e) => e.id),
      ["cr-lrp:cr-lr0-public"],
    );
  });
});
