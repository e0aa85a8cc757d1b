/**
 * Talking to iproute2 in batches: one `ip` process per batch, never one per object. Writes use
 * `ip -force -batch -` so a failing line does not stop the rest; iproute2 then prints the error
 * text of each failed line followed by "Command failed -:LINE" on stderr, which `parseBatchErrors`
 * maps back to line numbers (see `runWriteBatch` for the lines that abort a batch anyway). Reads use `ip -N -j -batch -` (no -force: a failed read must not
 * shift the outputs), whose stdout is one JSON array per command.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Exec } from "../exec.ts";

export interface BatchResult {
  /** 1-based line number → error text (the lines iproute2 printed before "Command failed"). */
  readonly lineErrors: ReadonlyMap<number, string>;
  /** Lines whose outcome is unknown (ip stopped before or while running them): never "already gone". */
  readonly unknown: ReadonlySet<number>;
  /** `ip` processes started (more than one only after an abort). */
  readonly processes: number;
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
 * Lines iproute2 may abort the whole batch on, despite -force: `ip neigh` exits(2) on ANY kernel
 * error (a delete of a missing neighbour included: the very failure that made the upstream agent
 * leave routes behind), and `ip link` exits(255) when an argument names a missing device
 * (`master X`). Each such line is followed by a marker that prints "[]" on stdout (`-j`), so after
 * an abort the count of markers says exactly which line stopped the batch.
 */
export const mayAbortBatch = (line: string): boolean => /^(neigh|link) /.test(line);
export const BATCH_MARKER = "neigh show to 127.0.0.255 dev lo";

/**
 * Run write lines through `ip -j -force -batch -`, one process (more only after an abort). `family`
 * 6 adds `-6` (needed for IPv6 `rule` lines only).
 *
 * With -force, iproute2 goes on after a failing line and exits 1. When it aborts instead, the
 * markers locate the aborting line: it gets the abort's message, the lines before it have their
 * normal results, and the lines after it are sent again in a new batch. An abort on a line that
 * should not abort leaves every later line "unknown" (reported failed; the next sync re-reads).
 */
export async function runWriteBatch(
  exec: Exec,
  lines: readonly string[],
  opts: { netns?: string; family?: 6; viaFile?: boolean } = {},
): Promise<BatchResult> {
  const argv = ["ip", ...(opts.family === 6 ? ["-6"] : []), "-j", "-force", "-batch", "-"];
  const dir = opts.viaFile ? mkdtempSync(join(tmpdir(), "ovn-bgp-batch-")) : undefined;
  try {
    return await writeBatch(exec, argv, lines, opts, dir);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function writeBatch(
  exec: Exec,
  argv: readonly string[],
  lines: readonly string[],
  opts: { netns?: string },
  dir: string | undefined,
): Promise<BatchResult> {
  const lineErrors = new Map<number, string>();
  const unknown = new Set<number>();
  let processes = 0;
  let from = 0; // 0-based index of the first line still to send
  while (from < lines.length) {
    const physical: string[] = [];
    const logical: Array<number | undefined> = []; // physical 0-based → logical 0-based (markers: undefined)
    const aborters: number[] = [];
    for (let i = from; i < lines.length; i++) {
      physical.push(lines[i] ?? "");
      logical.push(i);
      if (mayAbortBatch(lines[i] ?? "")) {
        aborters.push(i);
        physical.push(BATCH_MARKER);
        logical.push(undefined);
      }
    }
    processes++;
    const text = `${physical.join("\n")}\n`;
    const file = dir ? join(dir, `batch-${processes}`) : undefined;
    if (file) writeFileSync(file, text);
    const res = await exec({
      argv,
      ...(file ? { stdinFile: file } : { stdin: text }),
      ...(opts.netns ? { netns: opts.netns } : {}),
      timeoutMs: 120_000,
    });
    const parsed = parseBatchErrors(res.stderr);
    let lastBlamed = from - 1;
    for (const [n, err] of parsed.lineErrors) {
      const li = logical[n - 1];
      if (li === undefined) continue;
      lineErrors.set(li + 1, err);
      lastBlamed = Math.max(lastBlamed, li);
    }
    if (res.code === 0) break;
    if (res.code === 1) {
      if (parsed.lineErrors.size === 0) {
        // Exit 1 without blaming a line: the process itself failed (netns missing, …).
        for (let i = from; i < lines.length; i++) unknown.add(i + 1);
        const reason = parsed.trailing.slice(0, 300) || "ip exited 1";
        for (let i = from; i < lines.length; i++) lineErrors.set(i + 1, reason);
      }
      break;
    }
    const markers = (res.stdout.match(/\[\]/g) ?? []).length;
    const aborted = aborters[markers];
    const reason = parsed.trailing.slice(0, 300) || `ip exited ${res.code}`;
    if (aborted !== undefined && aborted > lastBlamed) {
      lineErrors.set(aborted + 1, reason);
      from = aborted + 1;
      continue;
    }
    const why = `outcome unknown: ip stopped the batch at or before this line (exit ${res.code}): ${reason}`;
    for (let i = lastBlamed + 1; i < lines.length; i++) {
      lineErrors.set(i + 1, why);
      unknown.add(i + 1);
    }
    break;
  }
  return { lineErrors, unknown, processes };
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
