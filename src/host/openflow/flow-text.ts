/**
 * The text side of OpenFlow flows: validating the planner's `FlowSpec` fields before they reach
 * `ovs-ofctl` (a newline or stray comma in a match would smuggle a second flow into the batch file),
 * parsing `ovs-ofctl dump-flows` / `dump-ports-desc`, and normalising matches/actions so desired
 * and observed flows compare equal whatever order or quoting ovs-ofctl prints.
 */
import type { FlowSpec } from "../../plan/desired-state.ts";

/** A flow as `ovs-ofctl --no-stats --no-names dump-flows` prints it. */
export interface ObservedFlow {
  readonly cookie: bigint;
  readonly table: number;
  readonly priority: number;
  /** Match fields without cookie/table/priority, as printed (`ip,in_port=1`). */
  readonly match: string;
  readonly actions: string;
}

/** An OpenFlow port: number and the (at most 15-character) name the switch reports. */
export interface OfPort {
  readonly ofport: number;
  readonly name: string;
}

/** OpenFlow's default priority: ovs-ofctl leaves `priority=` out of dumps for it. */
export const DEFAULT_PRIORITY = 32768;
/** OpenFlow port names are 16 bytes with the NUL: longer OVSDB names are cut in port descriptions. */
export const OF_PORT_NAME_MAX = 15;

const BRIDGE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const PORT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const FIELD = /^[a-z_][a-z0-9_]*$/;
const VALUE = /^[A-Za-z0-9_.:/-]+$/;
/** Fields the applier sets itself; a match must not carry them. */
const RESERVED = new Set(["cookie", "priority", "table", "actions", "out_port", "out_group"]);

export const isBridgeName = (s: string): boolean => BRIDGE.test(s);

/** Why a FlowSpec cannot be used, or undefined when it is valid. */
export function checkFlowSpec(f: FlowSpec): string | undefined {
  if (!isBridgeName(f.bridge)) return `invalid bridge name ${JSON.stringify(f.bridge)}`;
  // Cookie 0 would make `cookie=0/-1` select every flow nobody marked, such as the NORMAL default.
  if (!Number.isSafeInteger(f.cookie) || f.cookie <= 0)
    return `invalid cookie ${f.cookie} (must be a non-zero integer)`;
  if (!Number.isInteger(f.priority) || f.priority < 0 || f.priority > 65535)
    return `invalid priority ${f.priority}`;
  if (f.table !== undefined && !(Number.isInteger(f.table) && f.table >= 0 && f.table <= 254))
    return `invalid table ${f.table}`;
  if (f.match === "") return "empty match";
  for (const tok of f.match.split(",")) {
    const [key, value, ...rest] = tok.split("=");
    if (key === undefined || !FIELD.test(key) || rest.length > 0)
      return `invalid match field ${JSON.stringify(tok)}`;
    if (RESERVED.has(key)) return `match must not set ${key}`;
    if (value === undefined) continue;
    if (key === "in_port" ? !PORT_NAME.test(value) : !VALUE.test(value))
      return `invalid value in match field ${JSON.stringify(tok)}`;
    if ((key === "dl_src" || key === "dl_dst") && !MAC.test(value))
      return `invalid MAC in ${JSON.stringify(tok)}`;
  }
  if (f.actions === "") return "empty actions";
  for (const tok of splitActions(f.actions)) {
    const colon = tok.indexOf(":");
    const name = colon < 0 ? tok : tok.slice(0, colon);
    const arg = colon < 0 ? undefined : tok.slice(colon + 1);
    if (/^resubmit\(,\d{1,3}\)$/.test(tok)) continue;
    if (!/^[A-Za-z_]+$/.test(name)) return `invalid action ${JSON.stringify(tok)}`;
    if (name === "move" || name === "load") {
      // move:FIELD[]->FIELD[] and load:0xHEX->FIELD[] (the IPv6 ND responder), nothing else.
      const m = /^(0x[0-9a-f]+|[A-Z][A-Z0-9_]*\[\])->[A-Z][A-Z0-9_]*\[\]$/i.exec(arg ?? "");
      const srcIsField = arg !== undefined && !arg.startsWith("0x");
      if (!m || (name === "move") !== srcIsField) return `invalid action ${JSON.stringify(tok)}`;
      continue;
    }
    if (arg !== undefined && !VALUE.test(arg)) return `invalid action argument ${JSON.stringify(tok)}`;
    if ((name === "mod_dl_dst" || name === "mod_dl_src") && !(arg !== undefined && MAC.test(arg)))
      return `invalid MAC in action ${JSON.stringify(tok)}`;
  }
  return undefined;
}

/** Actions split at top-level commas (`resubmit(,10)` is one action). */
export function splitActions(actions: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of actions) {
    if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const unquote = (s: string): string => s.replace(/"/g, "");

/** Order-insensitive, quote-insensitive form of a match, for comparison only. */
export function normaliseMatch(match: string): string {
  return match
    .split(",")
    .map((t) => unquote(t.trim()).toLowerCase())
    .filter((t) => t !== "")
    .sort()
    .join(",");
}

/** Case- and quote-insensitive form of an action list (order matters and is kept). */
export function normaliseActions(actions: string): string {
  return actions
    .split(",")
    .map((t) => unquote(t.trim()).toLowerCase())
    .join(",");
}

/** Parse `ovs-ofctl --no-stats --no-names dump-flows` output; header and unparsable lines are skipped. */
export function parseDumpFlows(text: string): ObservedFlow[] {
  const out: ObservedFlow[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const at = line.indexOf(" actions=");
    const bare = line.startsWith("actions=");
    if (at < 0 && !bare) continue;
    const head = bare ? "" : line.slice(0, at);
    const actions = bare ? line.slice("actions=".length) : line.slice(at + " actions=".length);
    let cookie = 0n;
    let table = 0;
    let priority = DEFAULT_PRIORITY;
    const match: string[] = [];
    // Stats fields are separated by ", "; the match is the last, comma-joined group.
    for (const part of head.split(", ")) {
      for (const tok of part.split(",")) {
        if (tok === "") continue;
        const eq = tok.indexOf("=");
        const key = eq < 0 ? tok : tok.slice(0, eq);
        const value = eq < 0 ? "" : tok.slice(eq + 1);
        if (key === "cookie") cookie = BigInt(value);
        else if (key === "table") table = Number(value);
        else if (key === "priority") priority = Number(value);
        else if (
          !/^(duration|n_packets|n_bytes|idle_age|hard_age|idle_timeout|hard_timeout|reset_counts|importance)$/.test(
            key,
          )
        )
          match.push(tok);
      }
    }
    out.push({ cookie, table, priority, match: match.join(","), actions });
  }
  return out;
}

/** Parse `ovs-ofctl --no-names dump-ports-desc`: numbered ports only (LOCAL is the bridge itself). */
export function parsePortsDesc(text: string): OfPort[] {
  const out: OfPort[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\((.*)\): addr:/.exec(line);
    if (m) out.push({ ofport: Number(m[1]), name: m[2] as string });
  }
  return out;
}

/** `cookie=0x3e7` as ovs-ofctl writes it. */
export const cookieText = (c: bigint | number): string => `0x${BigInt(c).toString(16)}`;
