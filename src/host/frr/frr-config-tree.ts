/**
 * FRR configuration as nested contexts, the data model of FRR's own frr-reload: a context is the
 * path of header lines that lead to it (`["router bgp 64999", "address-family ipv4 unicast"]`),
 * and holds the plain lines under it in order. The root context (`[]`) holds global lines such as
 * `ip import-table 200`.
 *
 * The same parser reads `show running-config` and the agent's rendered text, so both sides of a
 * diff are normalised identically (trimmed, single spaces, no `!`/`exit`/`end` markers).
 */

export interface FrrContext {
  /** Header lines from the outermost context inwards; empty for the root. */
  readonly path: readonly string[];
  /** The context's own lines (not its sub-contexts' headers or lines), normalised, in order. */
  readonly lines: string[];
}

/** Contexts by `contextKey(path)`, in the order they first appear. */
export type FrrConfig = Map<string, FrrContext>;

export const contextKey = (path: readonly string[]): string => path.join("\n");

/** Lines `show running-config` prints that are not configuration. */
const NOISE = [/^Building configuration\.\.\.$/, /^Current configuration:$/, /^!/, /^end$/, /^frr version /];
/** Lines that close the current context (FRR ≥ 7.5 prints one after every context). */
const CLOSER = /^(exit|exit-address-family|exit-vrf|exit-vnc|quit|end)$/;

interface RawLine {
  readonly indent: number;
  readonly text: string;
}

function normalise(line: string): RawLine | undefined {
  const trimmedEnd = line.replace(/\s+$/, "");
  const text = trimmedEnd.trim().replace(/\s+/g, " ");
  if (text === "") return undefined;
  if (NOISE.some((re) => re.test(text))) return undefined;
  return { indent: trimmedEnd.length - trimmedEnd.trimStart().length, text };
}

function getOrCreate(config: FrrConfig, path: readonly string[]): FrrContext {
  const key = contextKey(path);
  let ctx = config.get(key);
  if (!ctx) {
    ctx = { path: [...path], lines: [] };
    config.set(key, ctx);
  }
  return ctx;
}

/**
 * Parse FRR configuration text into contexts. A line is a context header when the next line is
 * indented deeper, or when it is immediately closed by an `exit…` line at its own indentation
 * (an empty `route-map X permit 10`, which FRR prints as the header followed by `exit`).
 */
export function parseFrrConfig(text: string): FrrConfig {
  const raw: RawLine[] = [];
  for (const line of text.split("\n")) {
    const r = normalise(line);
    if (r) raw.push(r);
  }
  const config: FrrConfig = new Map();
  getOrCreate(config, []);
  const stack: Array<{ header: string; indent: number }> = [];
  for (let i = 0; i < raw.length; i++) {
    const cur = raw[i] as RawLine;
    // A line at or left of an open header's indentation is outside that header's context.
    while (stack.length > 0 && (stack[stack.length - 1] as { indent: number }).indent >= cur.indent)
      stack.pop();
    // A closer shares its header's indentation, so the loop above has already left the context.
    if (CLOSER.test(cur.text)) continue;
    const next = raw[i + 1];
    const isHeader =
      next !== undefined &&
      (next.indent > cur.indent || (next.indent === cur.indent && CLOSER.test(next.text)));
    const path = stack.map((s) => s.header);
    if (isHeader) {
      stack.push({ header: cur.text, indent: cur.indent });
      getOrCreate(config, [...path, cur.text]);
    } else {
      const ctx = getOrCreate(config, path);
      if (!ctx.lines.includes(cur.text)) ctx.lines.push(cur.text);
    }
  }
  return config;
}

/** The closing keyword FRR expects for a context opened by `header`. */
export function closerFor(header: string): string {
  if (header.startsWith("address-family ")) return "exit-address-family";
  if (header.startsWith("vrf ")) return "exit-vrf";
  return "exit";
}

/** Render contexts back to FRR text (one space of indentation per level, `exit` after each context). */
export function formatFrrConfig(config: FrrConfig): string[] {
  const out: string[] = [];
  const root = config.get(contextKey([]));
  if (root) out.push(...root.lines);
  const children = (path: readonly string[]): FrrContext[] =>
    [...config.values()].filter(
      (c) => c.path.length === path.length + 1 && path.every((p, i) => c.path[i] === p),
    );
  const emit = (ctx: FrrContext): void => {
    const depth = ctx.path.length - 1;
    const pad = " ".repeat(depth);
    const header = ctx.path[depth] as string;
    if (depth === 0) out.push("!");
    out.push(pad + header);
    for (const line of ctx.lines) out.push(`${pad} ${line}`);
    for (const child of children(ctx.path)) emit(child);
    out.push(pad + closerFor(header));
  };
  for (const ctx of children([])) emit(ctx);
  return out;
}
