/**
 * `ip rule` objects. The agent's rules carry `protocol <route_protocol>` (kernel ≥ 4.17); the kernel
 * treats two rules that differ only in protocol as distinct, so ours can sit next to an identical
 * foreign rule and be withdrawn without touching it, and `rule del … protocol N` deletes only ours.
 * A rule has a destination (`to`, layout per-ip) or none with `suppress_prefixlength` (layout
 * per-bridge: one rule per bridge table and family).
 */
import { keyRule, type RuleSpec } from "../../plan/desired-state.ts";
import { isRecord, num, str } from "./ip-batch.ts";
import { ipOp, type KeyedKind, label } from "./keyed-kind.ts";
import type { ObservedRule } from "./types.ts";
import { canonicalIp, checkCidr, checkPriority, checkTable, InvalidValueError } from "./validate.ts";

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
    const sp = num(o, "suppress_prefixlen");
    out.push({
      family,
      priority,
      table,
      protocol: num(o, "protocol") ?? 0,
      ...(to ? { to } : {}),
      ...(sp !== undefined ? { suppressPrefixlength: sp } : {}),
    });
  }
  return out;
}

export const observedRuleKey = (r: ObservedRule): string => keyRule(r);
export const desiredRuleKey = keyRule;

/** Validate and canonicalise a desired rule; throws InvalidValueError naming the bad value. */
export function checkRule(r: RuleSpec): RuleSpec {
  const sp = r.suppressPrefixlength;
  if (sp !== undefined && !(Number.isInteger(sp) && sp >= 0 && sp <= (r.family === 4 ? 32 : 128)))
    throw new InvalidValueError(`invalid suppress_prefixlength: ${JSON.stringify(sp)}`);
  if (r.to === undefined && sp === undefined)
    throw new InvalidValueError("a rule without a destination needs suppress_prefixlength");
  return {
    family: r.family,
    priority: checkPriority(r.priority),
    ...(r.to !== undefined ? { to: checkCidr(r.to, r.family) } : {}),
    table: checkTable(r.table),
    ...(sp !== undefined ? { suppressPrefixlength: sp } : {}),
  };
}

function selectors(r: {
  to?: string;
  table: number;
  suppressPrefixlength?: number;
  priority: number;
}): string {
  const to = r.to !== undefined ? ` to ${r.to}` : "";
  const sp = r.suppressPrefixlength !== undefined ? ` suppress_prefixlength ${r.suppressPrefixlength}` : "";
  return `${to} lookup ${r.table}${sp} priority ${r.priority}`;
}

export function ruleAddLine(r: RuleSpec, protocol: number): string {
  return `rule add${selectors(r)} protocol ${protocol}`;
}

/** Deletes exactly one rule of ours: the protocol selector keeps foreign twins safe. */
export function ruleDelLine(r: ObservedRule, protocol: number): string {
  return `rule del${selectors(r)} protocol ${protocol}`;
}

const ruleChannel = (r: { family: 4 | 6 }) => (r.family === 6 ? "ip6" : "ip");

/** Rules as a keyed kind: only rules carrying our protocol are considered (foreign ones are never touched). */
export const ruleKind: KeyedKind<RuleSpec, ObservedRule> = {
  kind: "rule",
  desired: (s) => s.rules,
  observed: (o) => o.rules,
  label: (raw) =>
    `${raw.family}|${raw.priority}|${label(raw.to ?? "all")}|${raw.table}${raw.suppressPrefixlength !== undefined ? `|suppress${label(raw.suppressPrefixlength)}` : ""}`,
  check: checkRule,
  key: keyRule,
  observedKey: observedRuleKey,
  observedDev: () => undefined,
  decide(want, have, ctx, out) {
    const ours = have.filter((r) => r.protocol === ctx.proto);
    const key = want ? keyRule(want) : observedRuleKey(have[0] as ObservedRule);
    const del = (x: ObservedRule) =>
      out.del(ipOp("rule", key, "del", [ruleDelLine(x, ctx.proto)], ruleChannel(x)));
    if (!want) {
      for (const x of ours) del(x);
      return;
    }
    const [first, ...extra] = ours;
    for (const x of extra) del(x);
    if (!first) out.add("rule", ipOp("rule", key, "add", [ruleAddLine(want, ctx.proto)], ruleChannel(want)));
  },
  after(want, have, ctx) {
    const foreign = have.filter((r) => r.protocol !== ctx.proto);
    return want ? [...foreign, { ...want, protocol: ctx.proto }] : foreign;
  },
};
