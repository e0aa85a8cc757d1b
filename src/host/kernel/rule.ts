/**
 * `ip rule` objects. The agent's rules carry `protocol <route_protocol>` (kernel ≥ 4.17); the kernel
 * treats two rules that differ only in protocol as distinct, so ours can sit next to an identical
 * foreign rule and be withdrawn without touching it, and `rule del … protocol N` deletes only ours.
 */
import { keyRule, type RuleSpec } from "../../plan/desired-state.ts";
import { isRecord, num, str } from "./ip-batch.ts";
import type { ObservedRule } from "./types.ts";
import { canonicalIp, checkCidr, checkPriority, checkTable } from "./validate.ts";

/** Parse `ip -N -j -d [-6] rule show`. */
export function parseRules(json: readonly unknown[], family: 4 | 6): ObservedRule[] {
  const out: ObservedRule[] = [];
  for (const o of json) {
    if (!isRecord(o)) continue;
    const priority = num(o, "priority");
    const table = num(o, "table");
    if (priority === undefined || table === undefined) continue;
    const dst = str(o, "dst");
    let to: string | undefined;
    if (dst !== undefined && dst !== "all") {
      const ip = canonicalIp(dst);
      if (ip === undefined) continue;
      to = `${ip}/${num(o, "dstlen") ?? (family === 4 ? 32 : 128)}`;
    }
    out.push({ family, priority, table, protocol: num(o, "protocol") ?? 0, ...(to ? { to } : {}) });
  }
  return out;
}

export function observedRuleKey(r: ObservedRule): string {
  return `${r.family}|${r.priority}|${r.to ?? "all"}|${r.table}`;
}

export const desiredRuleKey = keyRule;

/** Validate and canonicalise a desired rule; throws InvalidValueError naming the bad value. */
export function checkRule(r: RuleSpec): RuleSpec {
  return {
    family: r.family,
    priority: checkPriority(r.priority),
    to: checkCidr(r.to, r.family),
    table: checkTable(r.table),
  };
}

export function ruleAddLine(r: RuleSpec, protocol: number): string {
  return `rule add to ${r.to} lookup ${r.table} priority ${r.priority} protocol ${protocol}`;
}

/** Deletes exactly one rule of ours: the protocol selector keeps foreign twins safe. */
export function ruleDelLine(r: ObservedRule, protocol: number): string {
  const to = r.to ? ` to ${r.to}` : "";
  return `rule del${to} lookup ${r.table} priority ${r.priority} protocol ${protocol}`;
}
