/**
 * Benchmark: decode a Southbound snapshot the size of a large OpenStack region.
 *
 * Builds a synthetic `monitor_cond_since` reply holding 100,000 Port_Binding rows in update3 "initial"
 * form (default-valued columns omitted, one-element sets as bare atoms, as ovsdb-server sends them),
 * then times the whole receive path: framing in 64 KiB socket-sized chunks, JSON.parse, and
 * applyTableUpdates into a Map. Prints the median of 5 runs (plus min/max) as BENCH lines.
 *
 *   node --import tsx bench/ovsdb-decode.ts
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import { pathToFileURL } from "node:url";
import type { Row } from "../src/ovsdb/wire/datum.ts";
import { JsonFramer } from "../src/ovsdb/wire/json-framer.ts";
import { parseSchema } from "../src/ovsdb/wire/schema.ts";
import { applyTableUpdates } from "../src/ovsdb/wire/updates.ts";

const SB_SCHEMA = "/usr/share/ovn/ovn-sb.ovsschema";
const ROWS = 100_000;
const RUNS = 5;
const CHUNK = 64 * 1024;

/** Small deterministic PRNG (mulberry32) so every run decodes the same bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeUuid(rand: () => number): string {
  const h = () =>
    Math.floor(rand() * 0x100000000)
      .toString(16)
      .padStart(8, "0");
  const a = h();
  const b = h();
  const c = h();
  const d = h();
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, "0");
}

/** The reply bytes and the number of rows in it. */
export function buildReply(rows = ROWS): Buffer {
  const rand = prng(42);
  const datapaths = Array.from({ length: 2000 }, () => makeUuid(rand));
  const chassis = Array.from({ length: 500 }, () => makeUuid(rand));
  const projects = Array.from({ length: 200 }, () => makeUuid(rand).replaceAll("-", ""));
  const pb: Record<string, unknown> = {};
  for (let i = 0; i < rows; i++) {
    const uuid = makeUuid(rand);
    const portId = makeUuid(rand);
    const dp = datapaths[i % datapaths.length] as string;
    const ch = chassis[Math.floor(rand() * chassis.length)] as string;
    const mac = `fa:16:3e:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}`;
    const ip = `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
    const kind = i % 50 === 0 ? "localnet" : i % 20 === 0 ? "patch" : "";
    const row: Record<string, unknown> = {
      logical_port: portId,
      mac: `${mac} ${ip}`,
      port_security: `${mac} ${ip}`,
      datapath: ["uuid", dp],
      tunnel_key: (i % 32767) + 1,
      options: [
        "map",
        [
          ["mcast_flood_reports", "true"],
          ["requested-chassis", `compute-${i % 500}.example.org`],
        ],
      ],
      external_ids: [
        "map",
        [
          ["neutron:cidrs", `${ip}/16`],
          ["neutron:device_id", makeUuid(rand)],
          ["neutron:device_owner", "compute:nova"],
          ["neutron:host_id", `compute-${i % 500}.example.org`],
          ["neutron:network_name", `neutron-${makeUuid(rand)}`],
          ["neutron:port_capabilities", ""],
          ["neutron:port_name", `port-${i}`],
          ["neutron:project_id", projects[i % projects.length]],
          ["neutron:revision_number", String(1 + (i % 7))],
          ["neutron:security_group_ids", makeUuid(rand)],
          ["neutron:subnet_pool_addr_scope4", ""],
          ["neutron:subnet_pool_addr_scope6", ""],
          ["neutron:vnic_type", "normal"],
        ],
      ],
    };
    if (kind !== "") {
      row.type = kind;
      delete row.mac;
      delete row.port_security;
    } else {
      row.chassis = ["uuid", ch];
      row.requested_chassis = ["uuid", ch];
      row.up = true;
    }
    pb[uuid] = { initial: row };
  }
  const reply = {
    id: 7,
    result: [false, "00000000-0000-0000-0000-000000000000", { Port_Binding: pb }],
    error: null,
  };
  return Buffer.from(JSON.stringify(reply));
}

interface RunTimes {
  /** Framing + JSON.parse, ms. */
  frame: number;
  /** applyTableUpdates + storing into the Map, ms. */
  apply: number;
}

function decodeOnce(
  bytes: Buffer,
  schema: ReturnType<typeof parseSchema>,
  times: RunTimes,
): Map<string, Row> {
  const t0 = performance.now();
  // A 100k-port snapshot is larger than the framer's 64 MiB default: raise it like the client must.
  const framer = new JsonFramer({ maxMessageBytes: 512 * 1024 * 1024 });
  const messages: unknown[] = [];
  for (let off = 0; off < bytes.length; off += CHUNK) {
    for (const m of framer.push(bytes.subarray(off, off + CHUNK))) messages.push(m);
  }
  if (messages.length !== 1) throw new Error(`expected 1 message, got ${messages.length}`);
  const msg = messages[0] as { result: [boolean, string, unknown] };
  const t1 = performance.now();
  const store = new Map<string, Row>();
  const { changes, errors } = applyTableUpdates(schema, (_t, u) => store.get(u), msg.result[2], 2);
  if (errors.length) throw new Error(`decode errors: ${errors[0]?.message}`);
  for (const c of changes) {
    if (c.kind === "delete") store.delete(c.uuid);
    else store.set(c.uuid, c.new);
  }
  times.frame = t1 - t0;
  times.apply = performance.now() - t1;
  return store;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export function main(): void {
  const schema = parseSchema(JSON.parse(readFileSync(SB_SCHEMA, "utf8")));
  const bytes = buildReply();
  const wall: number[] = [];
  const cpu: number[] = [];
  const frame: number[] = [];
  const apply: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const times: RunTimes = { frame: 0, apply: 0 };
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const store = decodeOnce(bytes, schema, times);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const cu = process.cpuUsage(c0);
    cpu.push((cu.user + cu.system) / 1000);
    frame.push(times.frame);
    apply.push(times.apply);
    if (store.size !== ROWS) throw new Error(`expected ${ROWS} rows, got ${store.size}`);
  }
  const fmt = (n: number) => n.toFixed(1);
  console.log(`BENCH ovsdb_decode_100k_pb_ms=${fmt(median(wall))} ms`);
  console.log(`BENCH ovsdb_decode_100k_pb_bytes=${bytes.length} bytes`);
  console.log(
    `# ${RUNS} runs wall: min ${fmt(Math.min(...wall))} ms, median ${fmt(median(wall))} ms, max ${fmt(Math.max(...wall))} ms; ` +
      `median split: framing+JSON.parse ${fmt(median(frame))} ms, applyTableUpdates+Map ${fmt(median(apply))} ms; ` +
      `median CPU (all threads, incl. GC) ${fmt(median(cpu))} ms; ${(bytes.length / 1048576).toFixed(1)} MiB in ${CHUNK / 1024} KiB chunks; ` +
      `loadavg ${os.loadavg()[0]?.toFixed(2)} on ${os.availableParallelism()} CPUs`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
