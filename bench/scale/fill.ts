/**
 * Fills an OVN Southbound database with a Neutron-shaped deployment of a given size, fast: a few
 * big insert transactions through OvsdbClient.transact (no ovn-northd, no sbctl per row).
 *
 * Proportions per 100,000 Port_Bindings (they scale linearly):
 *  - 1,000 other chassis plus the measured one;
 *  - 400 routers, each: a router datapath, a gateway LRP (patch, "MAC IP/12") and its chassisredirect
 *    (cr-lrp, options:distributed-port) bound to some chassis (4% of them here), the provider-side
 *    patch port carrying two distributed FIPs in nat_addresses, and a tenant subnet (LRP + LSP patch
 *    pair) with 50 tenant VMs on its own datapath;
 *  - provider networks (one localnet each, network_name=public, at most 20,000 ports so the per
 *    datapath tunnel keys stay below 32,767) holding all other ports: provider VMs with "MAC IP";
 *  - `localShare` of all ports bound to the measured chassis (10,000 at 100k), mostly provider VMs;
 *  - two pools of provider VMs bound elsewhere, used later to bind/unbind: single changes and a burst.
 *
 * Only IPv4 addresses: every exposure then is exactly one `ip -4 rule`, which keeps counting simple.
 */
import type { OvsdbClient } from "../../src/ovsdb/client.ts";

export interface FillSpec {
  /** Total Port_Binding rows (approximately: topology is rounded to whole routers). */
  readonly ports: number;
  /** Fraction of all ports bound to the measured chassis. */
  readonly localShare: number;
  /** Name (and system-id) of the measured chassis. */
  readonly chassisName: string;
  /** Ports kept for single bind/unbind changes. */
  readonly changePool: number;
  /** Ports kept for the burst (bound in one transaction). */
  readonly burstPool: number;
}

export interface FillResult {
  readonly portCount: number;
  readonly meUuid: string;
  /** A chassis that is not the measured one: where pool ports are bound while idle. */
  readonly otherUuid: string;
  readonly changePorts: readonly PoolPort[];
  readonly burstPorts: readonly PoolPort[];
  readonly localBound: number;
  readonly routers: number;
  readonly chassis: number;
  readonly seconds: number;
}

export interface PoolPort {
  readonly uuid: string;
  readonly logicalPort: string;
  readonly ip: string;
}

const BATCH = 5_000;
const PROVIDER_DP_PORTS = 20_000;
const TENANT_VMS_PER_ROUTER = 50;
const LOCAL_ROUTER_SHARE = 0.04;

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, "0");
const mac = (i: number) => `fa:16:3e:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}`;
/** 172.16.0.0/12 holds the provider network: 2^20 addresses, more than any scale needs. */
const providerIp = (i: number) => `172.${16 + ((i >> 16) & 0x0f)}.${(i >> 8) & 0xff}.${i & 0xff}`;
const map = (o: Record<string, string>) => ["map", Object.entries(o)];
const set = (a: readonly string[]) => ["set", a];
const uuidRef = (u: string) => ["uuid", u];

interface PortDraft {
  logical_port: string;
  type?: string;
  datapath: string;
  mac: readonly string[];
  chassis?: string;
  up?: boolean;
  options?: Record<string, string>;
  nat_addresses?: readonly string[];
}

/** Insert rows of one table in batches; returns their uuids in order. */
async function insertAll(client: OvsdbClient, table: string, rows: readonly object[]): Promise<string[]> {
  const uuids: string[] = [];
  for (let i = 0; i < rows.length; i += BATCH) {
    const ops = rows.slice(i, i + BATCH).map((row) => ({ op: "insert", table, row }));
    const results = (await client.transact(ops)) as Array<{ uuid?: [string, string] }>;
    for (const r of results.slice(0, ops.length)) uuids.push(r.uuid?.[1] ?? "");
  }
  return uuids;
}

export async function fillSouthbound(client: OvsdbClient, spec: FillSpec): Promise<FillResult> {
  const started = performance.now();
  const routers = Math.max(4, Math.round(spec.ports / 250));
  const otherChassis = Math.max(4, Math.round(spec.ports / 100));

  // Chassis and their encaps (Chassis.encaps needs at least one).
  const chassisNames = [spec.chassisName, ...Array.from({ length: otherChassis }, (_, i) => `bench-ch-${i}`)];
  const ops: object[] = [];
  chassisNames.forEach((name, i) => {
    ops.push({
      op: "insert",
      table: "Encap",
      "uuid-name": `e${i}`,
      row: { type: "geneve", ip: `198.18.${(i >> 8) & 0xff}.${i & 0xff}`, chassis_name: name },
    });
    ops.push({
      op: "insert",
      table: "Chassis",
      row: { name, hostname: name, encaps: ["named-uuid", `e${i}`] },
    });
  });
  const chRes = (await client.transact(ops)) as Array<{ uuid?: [string, string] }>;
  const chassisUuids = chRes.filter((_, i) => i % 2 === 1).map((r) => r.uuid?.[1] ?? "");
  const meUuid = chassisUuids[0] ?? "";
  const others = chassisUuids.slice(1);
  const otherUuid = others[0] ?? "";
  let rr = 0;
  const someOther = () => others[rr++ % others.length] ?? otherUuid;

  // Budget: topology 5 ports per router, tenant VMs, then provider ports fill the rest.
  const tenantVms = routers * TENANT_VMS_PER_ROUTER;
  const topology = routers * 5;
  const providerTotal = Math.max(spec.changePool + spec.burstPool + 10, spec.ports - topology - tenantVms);
  const providerDps = Math.ceil(providerTotal / PROVIDER_DP_PORTS);
  const localRouters = Math.max(1, Math.round(routers * LOCAL_ROUTER_SHARE));
  const localTarget = Math.round(spec.ports * spec.localShare);

  // Datapaths: provider networks, then per router a router datapath and a tenant datapath.
  let dpKey = 1;
  const dpRow = (name: string) => ({ tunnel_key: dpKey++, external_ids: map({ name }) });
  const dpRows = [
    ...Array.from({ length: providerDps }, (_, i) => dpRow(`public-${i}`)),
    ...Array.from({ length: routers }, (_, r) => [dpRow(`router-${r}`), dpRow(`tenant-${r}`)]).flat(),
  ];
  const dps = await insertAll(client, "Datapath_Binding", dpRows);
  const providerDp = (i: number) => dps[i] ?? "";
  const routerDp = (r: number) => dps[providerDps + 2 * r] ?? "";
  const tenantDp = (r: number) => dps[providerDps + 2 * r + 1] ?? "";

  const keys = new Map<string, number>();
  const nextKey = (dp: string) => {
    const k = (keys.get(dp) ?? 0) + 1;
    keys.set(dp, k);
    return k;
  };
  const drafts: PortDraft[] = [];
  for (let p = 0; p < providerDps; p++)
    drafts.push({
      logical_port: `provnet-public-${p}`,
      type: "localnet",
      datapath: providerDp(p),
      mac: ["unknown"],
      options: { network_name: "public" },
    });

  let localBound = 0;
  let vm = 0;
  for (let r = 0; r < routers; r++) {
    const here = r < localRouters;
    const gwIp = providerIp(0xf0000 + r);
    const gwMac = mac(0x800000 + r);
    const subnet = `10.${(r >> 8) & 0xff}.${r & 0xff}`;
    const fipPorts: string[] = [];
    for (let k = 0; k < TENANT_VMS_PER_ROUTER; k++) {
      const name = `tvm-${vm}`;
      drafts.push({
        logical_port: name,
        datapath: tenantDp(r),
        mac: [`${mac(0x400000 + vm)} ${subnet}.${k + 10}`],
        chassis: someOther(),
        up: true,
      });
      if (k < 2) fipPorts.push(name);
      vm++;
    }
    drafts.push(
      {
        logical_port: `lrp-gw-${r}`,
        type: "patch",
        datapath: routerDp(r),
        mac: [`${gwMac} ${gwIp}/12`],
        options: { peer: `lsp-gw-${r}` },
      },
      {
        logical_port: `cr-lrp-gw-${r}`,
        type: "chassisredirect",
        datapath: routerDp(r),
        mac: [`${gwMac} ${gwIp}/12`],
        chassis: here ? meUuid : someOther(),
        options: { "distributed-port": `lrp-gw-${r}` },
      },
      {
        logical_port: `lsp-gw-${r}`,
        type: "patch",
        datapath: providerDp(r % providerDps),
        mac: ["router"],
        options: { peer: `lrp-gw-${r}` },
        nat_addresses: fipPorts.map(
          (p, k) =>
            `${mac(0xa00000 + 2 * r + k)} ${providerIp(0xe0000 + 2 * r + k)} is_chassis_resident("${p}")`,
        ),
      },
      {
        logical_port: `lrp-t-${r}`,
        type: "patch",
        datapath: routerDp(r),
        mac: [`${mac(0x900000 + r)} ${subnet}.1/24`],
        options: { peer: `lsp-t-${r}` },
      },
      {
        logical_port: `lsp-t-${r}`,
        type: "patch",
        datapath: tenantDp(r),
        mac: ["router"],
        options: { peer: `lrp-t-${r}` },
      },
    );
    if (here) localBound++;
  }

  // Provider VMs: the local share first, then the pools (bound elsewhere), then the rest elsewhere.
  const changeIdx: number[] = [];
  const burstIdx: number[] = [];
  for (let i = 0; i < providerTotal; i++) {
    const local = localBound < localTarget;
    if (local) localBound++;
    const pool = local
      ? undefined
      : changeIdx.length < spec.changePool
        ? changeIdx
        : burstIdx.length < spec.burstPool
          ? burstIdx
          : undefined;
    pool?.push(drafts.length);
    drafts.push({
      logical_port: `pvm-${i}`,
      datapath: providerDp(Math.floor(i / PROVIDER_DP_PORTS) % providerDps),
      mac: [`${mac(i)} ${providerIp(i)}`],
      chassis: local ? meUuid : someOther(),
      up: true,
    });
  }

  const rows = drafts.map((d) => ({
    logical_port: d.logical_port,
    type: d.type ?? "",
    datapath: uuidRef(d.datapath),
    tunnel_key: nextKey(d.datapath),
    mac: set(d.mac),
    ...(d.chassis ? { chassis: uuidRef(d.chassis) } : {}),
    ...(d.up !== undefined ? { up: d.up } : {}),
    ...(d.options ? { options: map(d.options) } : {}),
    ...(d.nat_addresses ? { nat_addresses: set(d.nat_addresses) } : {}),
  }));
  const uuids = await insertAll(client, "Port_Binding", rows);
  const pool = (idx: readonly number[]): PoolPort[] =>
    idx.map((i) => {
      const d = drafts[i] as PortDraft;
      return { uuid: uuids[i] ?? "", logicalPort: d.logical_port, ip: (d.mac[0] ?? "").split(" ")[1] ?? "" };
    });
  return {
    portCount: rows.length,
    meUuid,
    otherUuid,
    changePorts: pool(changeIdx),
    burstPorts: pool(burstIdx),
    localBound,
    routers,
    chassis: chassisNames.length,
    seconds: (performance.now() - started) / 1000,
  };
}

/** One transaction moving `ports` to `chassis` (the measured one to bind, another to unbind). */
export async function bindPorts(
  client: OvsdbClient,
  ports: readonly PoolPort[],
  chassis: string,
): Promise<void> {
  await client.transact(
    ports.map((p) => ({
      op: "update",
      table: "Port_Binding",
      where: [["_uuid", "==", uuidRef(p.uuid)]],
      row: { chassis: uuidRef(chassis) },
    })),
  );
}
