/**
 * Reading the kernel: two `ip` processes in parallel (the batch below, and `ip -6 rule show`, since
 * `ip rule` without `-6` lists IPv4 rules only and a batch line cannot select the family), plus the
 * sysctls and drop-in files the desired state names. Routes are read with the protocol filter, so
 * foreign routes (possibly a full BGP table in main) are never listed.
 */
import type { Exec } from "../exec.ts";
import { parseAddresses } from "./address.ts";
import { readOptional } from "./dropin-files.ts";
import { runReadBatch } from "./ip-batch.ts";
import { parseLinks } from "./link.ts";
import { parseNdpProxies } from "./ndp-proxy.ts";
import { parseNeighbours } from "./neighbour.ts";
import { parseRoutes } from "./route.ts";
import { parseRules } from "./rule.ts";
import type { SysctlIo } from "./sysctl.ts";
import type { ObservedKernel } from "./types.ts";

export interface ObserveOptions {
  readonly exec: Exec;
  readonly netns?: string;
  readonly routeProtocol: number;
  readonly sysctl: SysctlIo;
  /** /proc/sys-relative paths whose values the diff needs, by key. */
  readonly sysctlPaths: ReadonlyMap<string, string>;
  readonly files: readonly string[];
  readonly unsupportedLinkKinds: ReadonlySet<string>;
}

/** The read commands, in the order their JSON arrays come back. */
export function observeCommands(routeProtocol: number): string[] {
  return [
    "link show",
    "address show",
    "rule show",
    `route show table all proto ${routeProtocol} root 0.0.0.0/0`,
    `route show table all proto ${routeProtocol} root ::/0`,
    "neigh show nud permanent",
    "neigh show proxy",
  ];
}

export async function observeKernel(o: ObserveOptions): Promise<ObservedKernel> {
  const ns = o.netns ? { netns: o.netns } : {};
  const [main, rules6, sysctlValues, fileContents] = await Promise.all([
    runReadBatch(o.exec, observeCommands(o.routeProtocol), ns),
    runReadBatch(o.exec, ["rule show"], { ...ns, family: 6 }),
    o.sysctl.read([...new Set(o.sysctlPaths.values())]),
    Promise.all(o.files.map(async (f) => [f, await readOptional(f)] as const)),
  ]);
  const [links, addrs, rules4, routes4, routes6, neighs, proxies] = main;
  const sysctls = new Map<string, string | undefined>();
  for (const [key, path] of o.sysctlPaths) sysctls.set(key, sysctlValues.get(path));
  return {
    links: parseLinks(links ?? []),
    addresses: parseAddresses(addrs ?? []),
    rules: [...parseRules(rules4 ?? [], 4), ...parseRules(rules6[0] ?? [], 6)],
    routes: [...parseRoutes(routes4 ?? [], 4), ...parseRoutes(routes6 ?? [], 6)],
    neighbours: parseNeighbours(neighs ?? []),
    ndpProxies: parseNdpProxies(proxies ?? []),
    sysctls,
    files: new Map(fileContents),
    unsupportedLinkKinds: new Set(o.unsupportedLinkKinds),
  };
}
