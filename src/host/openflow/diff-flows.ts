/**
 * Pure diff of one bridge's desired flows (ports already resolved to numbers) against the flows
 * observed with the agent's cookies, and the flow_mod lines that close the gap.
 *
 * Identity is (table, priority, match): that is what OpenFlow itself treats as "the same flow", so
 * an `add` with new actions or a new cookie replaces the old flow in place (no delete needed), and
 * `delete_strict` with the cookie and a full mask removes exactly one of the agent's flows, never a
 * flow of another cookie that happens to share the match.
 */
import type { FlowSpec } from "../../plan/desired-state.ts";
import { cookieText, normaliseActions, normaliseMatch, type ObservedFlow } from "./flow-text.ts";

/** A desired flow whose port names were replaced by OpenFlow port numbers. */
export interface ResolvedFlow {
  readonly spec: FlowSpec;
  readonly match: string;
}

export interface FlowDiff {
  readonly add: readonly ResolvedFlow[];
  readonly remove: readonly ObservedFlow[];
  readonly unchanged: number;
}

const key = (table: number, priority: number, match: string): string =>
  `${table}|${priority}|${normaliseMatch(match)}`;

export function diffFlows(desired: readonly ResolvedFlow[], observed: readonly ObservedFlow[]): FlowDiff {
  const want = new Map<string, ResolvedFlow>();
  for (const d of desired) {
    const k = key(d.spec.table ?? 0, d.spec.priority, d.match);
    if (!want.has(k)) want.set(k, d);
  }
  const seen = new Map<string, ObservedFlow>();
  const remove: ObservedFlow[] = [];
  for (const o of observed) {
    const k = key(o.table, o.priority, o.match);
    if (want.has(k) && !seen.has(k)) seen.set(k, o);
    else remove.push(o);
  }
  const add: ResolvedFlow[] = [];
  let unchanged = 0;
  for (const [k, d] of want) {
    const o = seen.get(k);
    if (
      o &&
      o.cookie === BigInt(d.spec.cookie) &&
      normaliseActions(o.actions) === normaliseActions(d.spec.actions)
    )
      unchanged += 1;
    else add.push(d);
  }
  return { add, remove, unchanged };
}

/** The diff as lines for `ovs-ofctl add-flows <bridge> -` (adds first, then strict deletes). */
export function flowModLines(diff: FlowDiff): string[] {
  return [
    ...diff.add.map(
      (d) =>
        `add cookie=${cookieText(d.spec.cookie)},${d.spec.table ? `table=${d.spec.table},` : ""}priority=${d.spec.priority},${d.match},actions=${d.spec.actions}`,
    ),
    ...diff.remove.map(
      (o) =>
        `delete_strict cookie=${cookieText(o.cookie)}/-1,table=${o.table},priority=${o.priority}${o.match ? `,${o.match}` : ""}`,
    ),
  ];
}
