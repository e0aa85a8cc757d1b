/** `ovn-bgp status` as a person reads it (the agent's report, see Agent.report()). */
import type { AgentReport } from "../reconcile/agent.ts";

export function renderStatusText(r: AgentReport, logLevel?: string): string {
  const out: string[] = [];
  const ready = r.ready.ok ? "ready" : "NOT READY";
  out.push(
    `ovn-bgp agent pid ${r.pid}, chassis ${r.chassis ?? "(not known yet)"}: ${ready}; up ${duration(r.uptime_s)} (since ${r.started_at})${logLevel ? `; log level ${logLevel}` : ""}`,
  );
  const problems = (r.ready.problems as string[] | undefined) ?? [];
  for (const p of problems) out.push(`  problem: ${p}`);
  out.push("", "connections:");
  for (const c of r.connections)
    out.push(
      `  ${c.db.padEnd(15)} ${c.state.padEnd(11)} ${c.remote ?? "-"} (sync: ${c.last_sync}, reconnects: ${c.reconnects})${c.last_error ? `; last error: ${c.last_error}` : ""}`,
    );
  out.push("", "targets:");
  for (const [t, s] of Object.entries(r.targets)) {
    const last = s.last_pass;
    const verdict = last ? (last.ok ? "ok" : `FAILED: ${last.error ?? "failed"}`) : "no pass yet";
    out.push(
      `  ${t.padEnd(7)} ${verdict}${last ? ` (last ${last.mode ?? "full"} pass ${last.at}, ${last.changes} change(s))` : ""}; last success ${s.last_success ?? "never"}`,
    );
    for (const d of last?.details?.slice(0, 5) ?? []) out.push(`          ${d}`);
  }
  const kinds = Object.entries(r.exposed_ips);
  out.push(
    "",
    `exposed: ${r.exposures} exposure(s), ${kinds.reduce((n, [, c]) => n + c, 0)} IP(s)${kinds.length ? ` (${kinds.map(([k, n]) => `${k} ${n}`).join(", ")})` : ""}`,
  );
  if (r.problems.length) {
    out.push("", `southbound rows not used (${r.problems.length}):`);
    for (const p of r.problems.slice(0, 20)) out.push(`  ${p.table} ${p.object}: ${p.message}`);
    if (r.problems.length > 20) out.push(`  … and ${r.problems.length - 20} more (status --json lists all)`);
  }
  out.push("", `recent events (newest first, ${r.recent_events.length}):`);
  for (const e of r.recent_events.slice(0, 20))
    out.push(`  ${e.at} ${e.event} ${e.logical_port} ${e.ips.join(",")}${e.change ? ` (${e.change})` : ""}`);
  return `${out.join("\n")}\n`;
}

function duration(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m`;
}
