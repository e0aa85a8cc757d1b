/**
 * Talking to iproute2 in batches: one `ip` process per batch, never one per object. Writes use
 * `ip -force -batch -` so a failing line does not stop the rest; iproute2 then prints the error
 * text of each failed line followed by "Command failed -:LINE" on stderr, which `parseBatchErrors`
 * maps back to line numbers. Reads use `ip -N -j -batch -` (no -force: a failed read must not
 * shift the outputs), whose stdout is one JSON array per command.
 */
import type { Exec } from "../exec.ts";

export interface BatchResult {
  readonly code: number;
  /** 1-based line number → error text (the lines iproute2 printed before "Command failed"). */
  readonly lineErrors: ReadonlyMap<number, string>;
  readonly stderr: string;
  readonly stdout: string;
}

const FAILED_LINE = /^Command failed -:(\d+)\s*$/;

/**
 * Map iproute2's `-force -batch` stderr to per-line error texts; `trailing` is what it printed after
 * the last "Command failed" (the reason when it aborted the whole batch).
 */
export function parseBatchErrors(stderr: string): { lineErrors: Map<number, string>; trailing: string } {
  const lineErrors = new Map<number, string>();
  let pending: string[] = [];
  for (const raw of stderr.split("\n")) {
    const line = raw.trim();
    const m = FAILED_LINE.exec(line);
    if (m) {
      lineErrors.set(Number(m[1]), pending.join("; ") || "failed (iproute2 printed no reason)");
      pending = [];
    } else if (line !== "") pending.push(line);
  }
  return { lineErrors, trailing: pending.join("; ") };
}

/**
 * Run one write batch. `family` 6 adds `-6` (needed for IPv6 `rule` lines only).
 *
 * With -force, iproute2 exits 1 when some lines failed and goes on after each. But a few argument
 * errors (e.g. `master X` naming a missing device) make it exit(255) at once, without saying which
 * line: then every line after the last one it blamed has an unknown outcome and is reported as
 * failed; the next sync observes what really got installed.
 */
export async function runWriteBatch(
  exec: Exec,
  lines: readonly string[],
  opts: { netns?: string; family?: 6 } = {},
): Promise<BatchResult> {
  const argv = ["ip", ...(opts.family === 6 ? ["-6"] : []), "-force", "-batch", "-"];
  const res = await exec({
    argv,
    stdin: `${lines.join("\n")}\n`,
    ...(opts.netns ? { netns: opts.netns } : {}),
    timeoutMs: 120_000,
  });
  const { lineErrors, trailing } = parseBatchErrors(res.stderr);
  if (res.code !== 0 && res.code !== 1) {
    const last = Math.max(0, ...lineErrors.keys());
    const reason = `ip stopped the batch at or before this line (exit ${res.code}): ${trailing.slice(0, 300) || "no reason printed"}`;
    for (let i = last + 1; i <= lines.length; i++) lineErrors.set(i, reason);
  } else if (res.code === 1 && lineErrors.size === 0) {
    const reason = trailing.slice(0, 300) || "ip exited 1";
    for (let i = 1; i <= lines.length; i++) lineErrors.set(i, reason);
  }
  return { code: res.code, lineErrors, stderr: res.stderr, stdout: res.stdout };
}

/**
 * Split text holding several concatenated JSON values (iproute2 prints one array per batch
 * command) into the parsed values. String-aware, so brackets inside names do not confuse it.
 */
export function splitJsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "]" || c === "}") {
      depth--;
      if (depth === 0 && start >= 0) {
        values.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
      }
    }
  }
  if (depth !== 0) throw new Error("ip -json: truncated output");
  return values;
}

/** Run read commands in one `ip -N -j -d -batch -` and return one array per command. */
export async function runReadBatch(
  exec: Exec,
  commands: readonly string[],
  opts: { netns?: string; family?: 6 } = {},
): Promise<unknown[][]> {
  const argv = ["ip", ...(opts.family === 6 ? ["-6"] : []), "-N", "-j", "-d", "-batch", "-"];
  const res = await exec({
    argv,
    stdin: `${commands.join("\n")}\n`,
    ...(opts.netns ? { netns: opts.netns } : {}),
    timeoutMs: 120_000,
  });
  if (res.code !== 0) {
    throw new Error(
      `reading kernel state failed (ip exited ${res.code}): ${res.stderr.trim().slice(0, 500)}`,
    );
  }
  const values = splitJsonValues(res.stdout);
  if (values.length !== commands.length || !values.every(Array.isArray)) {
    throw new Error(`reading kernel state: expected ${commands.length} JSON arrays, got ${values.length}`);
  }
  return values as unknown[][];
}

/** A JSON object's field as a string (iproute2 with -N prints numbers as strings in places). */
export function str(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return undefined;
}

export function num(o: Record<string, unknown>, k: string): number | undefined {
  const v = o[k];
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^[0-9]+$/.test(v)) return Number(v);
  return undefined;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
