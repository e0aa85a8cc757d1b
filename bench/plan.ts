/**
 * Planner benchmark: 100,000 Port_Bindings of which about 10,000 concern the local chassis.
 *
 *   node --import tsx bench/plan.ts
 *
 * Prints `BENCH plan_scratch_100k_ms=…` (load + state from scratch, median of 3 after one
 * warm-up) and `BENCH plan_change_us=p50/p99` (one Port_Binding change through `apply()`: VM
 * moves in and out, ports going down/up, FIP re-association, gateway fail-over, new VMs).
 */
import type { Row, RowChange } from "../src/ovsdb/wire/datum.ts";
import type { LocalFacts } from "../src/plan/local-facts.ts";
import { Planner } from "../src/plan/planner.ts";
import { chassisRow, portRow, type SbTables } from "../test/fixtures/sb-seed.ts";
import { testConfig } from "../test/fixtures/test-config.ts";

const ME = "ch-me";
const OTHER = "ch-other";
const PUBLIC = "dp-public";

function mac(i: number): string {
  const h = (n: number) => (n & 0xff).toString(16).padStart(2, "0");
  return `fa:16:3e:${h(i >> 16)}:${h(i >> 8)}:${h(i)}`;
}
const v4 = (base: number, i: number) => `${base}.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;

interface Dataset {
  tables: SbTables;
  relevantHint: number;
  providerVms: string[];
  tenantVms: string[];
  crlrps: string[];
  carriers: Array<{ uuid: string; fip: string; vms: string[] }>;
}

function build(): Dataset {
  const ports = new Map<string, Row>();
  let n = 0;
  const add = (p: Parameters<typeof portRow>[1]) => {
    const uuid = `pb-${n++}`;
    ports.set(uuid, portRow(uuid, p));
    return uuid;
  };
  const providerVms: string[] = [];
  const tenantVms: string[] = [];
  const crlrps: string[] = [];
  const carriers: Dataset["carriers"] = [];
  add({
    logical_port: "provnet-public",
    type: "localnet",
    datapath: PUBLIC,
    mac: ["unknown"],
    options: { network_name: "public" },
  });
  // 44,000 provider VMs: 4,000 here, 40,000 elsewhere.
  for (let i = 0; i < 44_000; i++) {
    const here = i < 4_000;
    const u = add({
      logical_port: `pvm-${i}`,
      datapath: PUBLIC,
      mac: [`${mac(i)} ${v4(172, 0x100000 + i)} 2001:db8::${i.toString(16)}`],
      chassis: here ? ME : OTHER,
      up: true,
    });
    if (here) providerVms.push(u);
  }
  // 1,200 routers, each with one tenant subnet; 200 have their gateway here. Tenant VMs: 25 per
  // local router (5,000 exposed here) and 45 per remote router (45,000 elsewhere).
  let vm = 0;
  for (let r = 0; r < 1_200; r++) {
    const here = r < 200;
    const rdp = `dp-r${r}`;
    const tdp = `dp-t${r}`;
    const gw = `${mac(0x800000 + r)} ${v4(172, 0x200000 + r)}/12`;
    add({
      logical_port: `lrp-gw${r}`,
      type: "patch",
      datapath: rdp,
      mac: [gw],
      options: { peer: `lsp-gw${r}` },
    });
    const cr = add({
      logical_port: `cr-lrp-gw${r}`,
      type: "chassisredirect",
      datapath: rdp,
      mac: [gw],
      chassis: here ? ME : OTHER,
      options: { "distributed-port": `lrp-gw${r}` },
    });
    if (here) crlrps.push(cr);
    const subnet = `10.${(r >> 8) & 0xff}.${r & 0xff}`;
    add({
      logical_port: `lrp-t${r}`,
      type: "patch",
      datapath: rdp,
      mac: [`${mac(0x900000 + r)} ${subnet}.1/24`],
      options: { peer: `lsp-t${r}` },
    });
    add({
      logical_port: `lsp-t${r}`,
      type: "patch",
      datapath: tdp,
      mac: ["router"],
      options: { peer: `lrp-t${r}` },
    });
    const vmsHere: string[] = [];
    const count = here ? 25 : 45;
    for (let k = 0; k < count; k++) {
      const u = add({
        logical_port: `tvm-${vm}`,
        datapath: tdp,
        mac: [`${mac(0x400000 + vm)} ${subnet}.${k + 10}`],
        chassis: k % 3 === 0 ? ME : OTHER,
        up: true,
      });
      if (here) tenantVms.push(u);
      vmsHere.push(`tvm-${vm}`);
      vm++;
    }
    // Distributed FIPs: 4 per router, resident on its first VMs (some of them here).
    const nat = vmsHere
      .slice(0, 4)
      .map(
        (p, k) => `${mac(0xa00000 + r * 4 + k)} ${v4(172, 0x300000 + r * 4 + k)} is_chassis_resident("${p}")`,
      );
    const carrier = add({
      logical_port: `lsp-gw${r}`,
      type: "patch",
      datapath: PUBLIC,
      mac: ["router"],
      options: { peer: `lrp-gw${r}` },
      nat_addresses: nat,
    });
    carriers.push({ uuid: carrier, fip: v4(172, 0x300000 + r * 4), vms: vmsHere });
  }
  // Pad to 100,000 with unrelated ports (localports, ports on other switches).
  let pad = 0;
  while (ports.size < 100_000) {
    add({
      logical_port: `pad-${pad}`,
      type: pad % 2 ? "localport" : "",
      datapath: `dp-x${pad % 500}`,
      mac: [`${mac(0xc00000 + pad)} 192.168.${(pad >> 8) & 0xff}.${pad & 0xff}`],
      chassis: OTHER,
      up: true,
    });
    pad++;
  }
  const chassis = new Map([
    [ME, chassisRow(ME, "me")],
    [OTHER, chassisRow(OTHER, "other")],
  ]);
  return {
    tables: new Map([
      ["Chassis", chassis],
      ["Port_Binding", ports],
    ]),
    relevantHint: 0,
    providerVms,
    tenantVms,
    crlrps,
    carriers,
  };
}

const facts: LocalFacts = {
  chassisName: "me",
  bridgeMappings: [{ network: "public", bridge: "br-ex" }],
  bridges: new Map([["br-ex", { mac: "aa:bb:cc:00:00:01", patchPorts: ["patch-provnet-public-to-br-int"] }]]),
};
const config = testConfig();

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const data = build();
const ports = data.tables.get("Port_Binding") as Map<string, Row>;

const scratch: number[] = [];
const scratchCpu: number[] = [];
let planner = new Planner(config, facts);
for (let i = 0; i < 4; i++) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  planner = new Planner(config, facts);
  planner.load(data.tables);
  planner.state();
  scratch.push(ms(t0));
  const c = process.cpuUsage(c0);
  scratchCpu.push((c.user + c.system) / 1000);
}
const state = planner.state();
const warm = scratch.slice(1).sort((a, b) => a - b);
const warmCpu = scratchCpu.slice(1).sort((a, b) => a - b);
console.log(
  `dataset: ${ports.size} Port_Bindings, ${state.entries.length} exposures here, ${state.problems.length} problems`,
);

// Single changes, cycling through kinds.
let seed = 12345;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
function update(uuid: string, cols: Record<string, unknown>): RowChange {
  const old = ports.get(uuid) as Row;
  const next = { ...old, ...cols } as Row;
  ports.set(uuid, next);
  return { kind: "update", table: "Port_Binding", uuid, old, new: next };
}
const kinds: Array<() => RowChange> = [
  () => {
    const u = data.providerVms[rand(data.providerVms.length)] as string;
    const cur = (ports.get(u) as Row).chassis as string[];
    return update(u, { chassis: [cur[0] === ME ? OTHER : ME] });
  },
  () => {
    const u = data.providerVms[rand(data.providerVms.length)] as string;
    const up = ((ports.get(u) as Row).up as boolean[])[0];
    return update(u, { up: [!up] });
  },
  () => {
    const u = data.tenantVms[rand(data.tenantVms.length)] as string;
    const m = ((ports.get(u) as Row).mac as string[])[0] as string;
    const [hw, ip] = m.split(" ");
    return update(u, { mac: [`${hw} ${ip}`, ...(rand(2) ? ["unknown"] : [])] });
  },
  () => {
    const c = data.carriers[rand(data.carriers.length)] as Dataset["carriers"][number];
    const vm = c.vms[rand(c.vms.length)];
    return update(c.uuid, { nat_addresses: [`fa:16:3e:ee:ee:01 ${c.fip} is_chassis_resident("${vm}")`] });
  },
  () => {
    const u = data.crlrps[rand(data.crlrps.length)] as string;
    const cur = (ports.get(u) as Row).chassis as string[];
    return update(u, { chassis: [cur[0] === ME ? OTHER : ME] });
  },
];
const times: number[] = [];
let newVm = 0;
for (let i = 0; i < 5_000; i++) {
  let change: RowChange;
  if (i % 10 === 9) {
    const uuid = `new-${newVm++}`;
    const row = portRow(uuid, {
      logical_port: `nvm-${newVm}`,
      datapath: PUBLIC,
      mac: [`${mac(0xe00000 + newVm)} ${v4(172, 0x500000 + newVm)}`],
      chassis: ME,
      up: true,
    });
    ports.set(uuid, row);
    change = { kind: "insert", table: "Port_Binding", uuid, new: row };
  } else change = (kinds[i % kinds.length] as () => RowChange)();
  const t0 = process.hrtime.bigint();
  planner.apply([change]);
  times.push(Number(process.hrtime.bigint() - t0) / 1e3);
}
times.sort((a, b) => a - b);
const pct = (p: number) =>
  (times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] as number).toFixed(0);
const t0 = process.hrtime.bigint();
planner.state();
const stateMs = ms(t0);

console.log(
  `BENCH plan_scratch_100k_ms=${(warm[1] as number).toFixed(0)} (cold ${(scratch[0] as number).toFixed(0)}; process CPU ${(warmCpu[1] as number).toFixed(0)} ms, includes GC threads)`,
);
console.log(`BENCH plan_change_us=${pct(50)}/${pct(99)} (p50/p99, max ${pct(100)})`);
console.log(`BENCH plan_state_rebuild_ms=${stateMs.toFixed(1)}`);
