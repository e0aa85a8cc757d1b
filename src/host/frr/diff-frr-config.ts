/**
 * Diff the agent's desired FRR contexts against the running configuration, frr-reload style, but
 * only over what the agent owns:
 * - everything desired that is missing is added (make-before-break: adds run before removals);
 * - a running line or context is removed only if the agent owns it (see `isOwned*`) and it is no
 *   longer desired. The operator's neighbours, route-maps, prefix-lists and every other stanza are
 *   never touched, whatever they contain.
 *
 * Ownership is read from the running config itself: exactly the route-maps the agent renders
 * (`OVN-BGP-TABLE`, `-KERNEL6`, `-CONNECTED`, `permit 10`), the lines it renders that use them (by
 * their exact shape), its BGP VRF instance (the one that redistributes connected routes through
 * `OVN-BGP-CONNECTED`) and the `import vrf` of that instance. It survives agent restarts without a
 * state file. Not the agent's, whatever their names: any other route-map (an operator's
 * `OVN-BGP-MINE` too), neighbours and their route-map lines, `bgp router-id` in the operator's
 * instance, other VRF instances and their imports, prefix-lists. The agent never clears a session.
 */
import { closerFor, contextKey, type FrrConfig } from "./frr-config-tree.ts";
import { RM_CONNECTED, RM_KERNEL6, RM_TABLE } from "./render-frr-config.ts";

/** One vtysh change: enter `path`, then run `line` (prefixed with `no ` for a removal). */
export interface FrrCommand {
  readonly path: readonly string[];
  /** Absent: only enter the context (creates an empty one, e.g. a permit-all route-map). */
  readonly line?: string;
}

export interface FrrConfigDiff {
  readonly add: readonly FrrCommand[];
  readonly remove: readonly FrrCommand[];
  /** Operator settings the agent's would have replaced, left as they are (e.g. their router-id). */
  readonly kept?: readonly string[];
}

/**
 * The route-maps the agent renders, exactly: an operator's own `route-map OVN-BGP-MINE` is not ours,
 * nor a `neighbor … route-map OVN-BGP-…` line that uses one.
 */
const OWNED_RM_HEADERS: ReadonlySet<string> = new Set(
  [RM_TABLE, RM_KERNEL6, RM_CONNECTED].map((n) => `route-map ${n} permit 10`),
);
/** The lines the agent renders outside its own contexts, by their exact shape. */
const OWNED_LINES: readonly RegExp[] = [
  new RegExp(`^ip import-table \\d+ route-map ${RM_TABLE}$`),
  new RegExp(`^redistribute table \\d+ route-map ${RM_TABLE}$`),
  new RegExp(`^redistribute kernel route-map ${RM_KERNEL6}$`),
  new RegExp(`^redistribute connected route-map ${RM_CONNECTED}$`),
];
const isRenderedLine = (line: string): boolean => OWNED_LINES.some((re) => re.test(line));
const BGP_VRF = /^router bgp (\d+) vrf (\S+)$/;
const BGP_DEFAULT = /^router bgp (\d+)$/;

const isPrefix = (prefix: readonly string[], path: readonly string[]): boolean =>
  prefix.length <= path.length && prefix.every((p, i) => path[i] === p);

/** BGP VRF instances the agent created: `router bgp AS vrf X` whose lines use an OVN-BGP- route-map. */
function ownedBgpVrfs(running: FrrConfig): Set<string> {
  const owned = new Set<string>();
  for (const ctx of running.values()) {
    const top = ctx.path[0];
    const m = top !== undefined ? BGP_VRF.exec(top) : null;
    if (m && ctx.lines.some((l) => l === `redistribute connected route-map ${RM_CONNECTED}`))
      owned.add(top as string);
  }
  return owned;
}

/** Whole contexts the agent owns (removed with `no <header>` when no longer desired). */
function isOwnedContext(path: readonly string[], ownedVrfHeaders: ReadonlySet<string>): boolean {
  if (path.length !== 1) return false;
  const header = path[0] as string;
  return OWNED_RM_HEADERS.has(header) || ownedVrfHeaders.has(header);
}

/** Lines the agent owns inside contexts it does not own. */
function isOwnedLine(line: string, ownedVrfNames: ReadonlySet<string>): boolean {
  if (isRenderedLine(line)) return true;
  const m = /^import vrf (\S+)$/.exec(line);
  return m !== null && ownedVrfNames.has(m[1] as string);
}

/**
 * What a line sets, without its value, for FRR commands that hold one value per key: adding
 * `match metric 5` replaces `match metric 4`, so `no match metric 4` afterwards must not run.
 */
export function replacementKey(line: string): string {
  const m = /^(match metric|set metric|bgp router-id) \S+$/.exec(line);
  if (m) return m[1] as string;
  return line.replace(/ route-map \S+$/, "");
}

/** Adds first the route-maps (users need them to exist), then zebra globals, then the rest. */
const addRank = (c: FrrCommand): number =>
  c.path.length > 0 && OWNED_RM_HEADERS.has(c.path[0] as string) ? 0 : c.path.length === 0 ? 1 : 2;
/** Removals: references first, then the BGP VRF instances, then globals, then route-maps last. */
function removeRank(c: FrrCommand): number {
  const top = c.path[0] ?? c.line ?? "";
  if (OWNED_RM_HEADERS.has(top)) return 3;
  if (c.path.length === 0) return BGP_VRF.test(c.line ?? "") ? 1 : 2;
  return 0;
}

function stableSort(cmds: FrrCommand[], rank: (c: FrrCommand) => number): FrrCommand[] {
  return cmds
    .map((c, i) => ({ c, i, r: rank(c) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.c);
}

export function diffFrrConfig(desired: FrrConfig, running: FrrConfig): FrrConfigDiff {
  const vrfHeaders = ownedBgpVrfs(running);
  const add: FrrCommand[] = [];
  const kept: string[] = [];
  for (const [key, ctx] of desired) {
    const have = running.get(key);
    if (!have && ctx.path.length > 0 && ctx.lines.length === 0) add.push({ path: ctx.path });
    for (const line of ctx.lines) {
      if (have?.lines.includes(line)) continue;
      // Another router-id in the operator's instance stays: replacing it would reset every session.
      const theirs = have?.lines.find((l) => l.startsWith("bgp router-id "));
      if (line.startsWith("bgp router-id ") && theirs && !isOwnedContext(ctx.path.slice(0, 1), vrfHeaders)) {
        kept.push(
          `${ctx.path.join(" > ")}: ${theirs} (bgp_router_id wants ${line.slice("bgp router-id ".length)})`,
        );
        continue;
      }
      add.push({ path: ctx.path, line });
    }
  }

  const vrfNames = new Set<string>();
  for (const h of vrfHeaders) vrfNames.add((BGP_VRF.exec(h) as RegExpExecArray)[2] as string);
  const removedContexts: Array<readonly string[]> = [];
  const remove: FrrCommand[] = [];
  for (const [key, ctx] of running) {
    if (removedContexts.some((p) => isPrefix(p, ctx.path))) continue;
    const wanted = desired.get(key);
    if (!wanted && isOwnedContext(ctx.path, vrfHeaders)) {
      removedContexts.push(ctx.path);
      remove.push({ path: ctx.path.slice(0, -1), line: ctx.path[ctx.path.length - 1] as string });
      continue;
    }
    const ownedWhole = ctx.path.length > 0 && isOwnedContext(ctx.path.slice(0, 1), vrfHeaders);
    const wantedKeys = new Set((wanted?.lines ?? []).map(replacementKey));
    for (const line of ctx.lines) {
      if (wanted?.lines.includes(line)) continue;
      if (!ownedWhole && !isOwnedLine(line, vrfNames)) continue;
      // A desired line with the same key replaces this one in place; `no` would undo the replacement.
      if (wantedKeys.has(replacementKey(line))) continue;
      remove.push({ path: ctx.path, line });
    }
  }
  return {
    add: stableSort(add, addRank),
    remove: stableSort(remove, removeRank),
    ...(kept.length > 0 ? { kept } : {}),
  };
}

export const isEmptyDiff = (d: FrrConfigDiff): boolean => d.add.length === 0 && d.remove.length === 0;

/**
 * A `router bgp N` the operator runs with another AS: FRR refuses a second default instance, so
 * this is a configuration conflict to report, not something to fix by removing theirs.
 */
export function findAsnConflict(desired: FrrConfig, running: FrrConfig): string | undefined {
  const want = new Set<string>();
  for (const ctx of desired.values()) {
    const m = ctx.path.length === 1 ? BGP_DEFAULT.exec(ctx.path[0] as string) : null;
    if (m) want.add(m[1] as string);
  }
  if (want.size === 0) return undefined;
  for (const ctx of running.values()) {
    const m = ctx.path.length === 1 ? BGP_DEFAULT.exec(ctx.path[0] as string) : null;
    if (m && !want.has(m[1] as string))
      return `FRR already runs "router bgp ${m[1]}", the agent wants AS ${[...want].join(", ")}`;
  }
  return undefined;
}

/** The diff as a `vtysh -f` script: removals after additions, each group wrapped in its contexts. */
export function renderFrrScript(diff: FrrConfigDiff): string {
  const out: string[] = [];
  const emit = (cmds: readonly FrrCommand[], negate: boolean): void => {
    let i = 0;
    while (i < cmds.length) {
      const path = (cmds[i] as FrrCommand).path;
      path.forEach((h, d) => {
        out.push(" ".repeat(d) + h);
      });
      while (i < cmds.length && contextKey((cmds[i] as FrrCommand).path) === contextKey(path)) {
        const line = (cmds[i] as FrrCommand).line;
        if (line !== undefined) out.push(" ".repeat(path.length) + (negate ? `no ${line}` : line));
        i++;
      }
      for (let d = path.length - 1; d >= 0; d--) out.push(" ".repeat(d) + closerFor(path[d] as string));
    }
  };
  emit(diff.add, false);
  emit(diff.remove, true);
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}
