/**
 * Evidence for `lab check`: what the spine's RIB holds (next hops, and which host originated a prefix,
 * read from the AS path), and real packets from the spine's namespace (ping, and a TCP connection to a
 * listener that runs only inside a VM's namespace and answers with a per-check nonce).
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { run } from "../host/exec.ts";
import { vtyshJson } from "./frr.ts";
import type { LabNames } from "./names.ts";
import type { StateRecorder } from "./state.ts";
import { NODES, SPINE } from "./topology.ts";

export interface SpineRoute {
  readonly prefix: string;
  /** Active next hops installed in the FIB, e.g. "swp1 fe80::…". */
  readonly nexthops: readonly string[];
  /** Hosts whose AS ends an AS path of a best/multipath path. */
  readonly origins: readonly string[];
}

interface ZebraRoute {
  protocol: string;
  selected?: boolean;
  installed?: boolean;
  nexthops?: { ip?: string; interfaceName?: string; active?: boolean; fib?: boolean }[];
}
interface BgpPath {
  aspath?: { string?: string };
  bestpath?: { overall?: boolean };
  multipath?: boolean;
  valid?: boolean;
}

const hostByAsn = new Map(NODES.filter((n) => n.role === "host").map((n) => [String(n.asn), n.name]));

/** The spine's view of one prefix ("172.24.4.92/32", "2001:db8::21c/128"), or undefined if absent. */
export async function spineRoute(names: LabNames, prefix: string): Promise<SpineRoute | undefined> {
  const v6 = prefix.includes(":");
  const rib = await vtyshJson<Record<string, ZebraRoute[]>>(
    names,
    SPINE,
    `show ${v6 ? "ipv6" : "ip"} route ${prefix} json`,
  );
  const entries = rib[prefix] ?? [];
  const bgp = entries.find((e) => e.protocol === "bgp" && e.selected);
  if (!bgp) return undefined;
  const nexthops = (bgp.nexthops ?? [])
    .filter((n) => n.active && n.fib)
    .map((n) => `${n.interfaceName ?? "?"} ${n.ip ?? ""}`.trim());
  const detail = await vtyshJson<{ paths?: BgpPath[] }>(
    names,
    SPINE,
    `show bgp ${v6 ? "ipv6" : "ipv4"} unicast ${prefix} json`,
  );
  const origins = new Set<string>();
  for (const p of detail.paths ?? []) {
    if (p.valid === false) continue;
    if (!(p.bestpath?.overall || p.multipath)) continue;
    const asns = (p.aspath?.string ?? "").trim().split(/\s+/);
    const last = asns[asns.length - 1];
    origins.add((last && hostByAsn.get(last)) ?? `AS${last}`);
  }
  return { prefix, nexthops, origins: [...origins].sort() };
}

/** All BGP prefixes the spine has selected, for `status`. */
export async function spineBgpPrefixes(names: LabNames, v6: boolean): Promise<string[]> {
  const rib = await vtyshJson<Record<string, ZebraRoute[]>>(
    names,
    SPINE,
    `show ${v6 ? "ipv6" : "ip"} route bgp json`,
  );
  return Object.keys(rib).sort();
}

/** One ping from the spine's loopback; true if a reply came back. */
export async function ping(
  names: LabNames,
  fromNode: string,
  src: string,
  dst: string,
  count = 1,
): Promise<boolean> {
  const res = await run({
    argv: [
      "ping",
      ...(dst.includes(":") ? ["-6"] : []),
      "-n",
      "-q",
      "-c",
      String(count),
      "-W",
      "1",
      "-I",
      src,
      dst,
    ],
    netns: names.ns(fromNode),
    timeoutMs: 5000 + count * 1000,
  });
  return res.code === 0;
}

const SERVER = `
const net = require("node:net");
const [port, banner] = process.argv.slice(1);
net.createServer((s) => { s.end(banner + "\\n"); s.on("error", () => {}); }).listen(Number(port), "::", () => {});
`;

const CLIENT = `
const net = require("node:net");
const [host, port, local] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), localAddress: local, timeout: 3000 });
let out = "";
s.on("data", (d) => (out += d));
s.on("end", () => { process.stdout.write(out); process.exit(0); });
s.on("timeout", () => { process.stderr.write("timeout"); process.exit(2); });
s.on("error", (e) => { process.stderr.write(e.message); process.exit(1); });
`;

/** Start the probe listener inside a VM namespace; it answers every connection with `banner`. */
export function startListener(
  rec: StateRecorder,
  names: LabNames,
  vm: string,
  port: number,
  banner: string,
  logFile: string,
): number {
  const argv = ["ip", "netns", "exec", names.ns(vm), process.execPath, "-e", SERVER, String(port), banner];
  const fd = openSync(logFile, "a");
  const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`listener in ${vm}: spawn failed`);
  rec.process({ name: `${vm}/probe-listener`, pid: child.pid, netns: names.ns(vm) });
  return child.pid;
}

/** Connect over TCP from `fromNode` and return what the peer sent, or an Error's message. */
export async function tcpBanner(
  names: LabNames,
  fromNode: string,
  src: string,
  dst: string,
  port: number,
): Promise<{ ok: boolean; text: string }> {
  const res = await run({
    argv: [process.execPath, "-e", CLIENT, dst, String(port), src],
    netns: names.ns(fromNode),
    timeoutMs: 10_000,
  });
  return {
    ok: res.code === 0,
    text: res.code === 0 ? res.stdout.trim() : res.stderr.trim() || `exit ${res.code}`,
  };
}
