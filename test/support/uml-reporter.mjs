/**
 * A node:test reporter for test files run inside user-mode Linux (test/support/uml.ts): one JSON
 * line per finished test, with its full name (file › suite › test), outcome and error, so the test
 * run outside can report each inner test as its own. Plain JavaScript: the runner loads reporters
 * before any test file, and this one must not depend on a loader.
 */
import { relative } from "node:path";

const message = (err) => {
  if (!err) return undefined;
  const inner = err.cause instanceof Error || (err.cause && typeof err.cause === "object") ? err.cause : err;
  const text = String(inner.message ?? inner);
  const stack = typeof inner.stack === "string" ? inner.stack.split("\n").slice(1, 6).join("\n") : "";
  return stack ? `${text}\n${stack}` : text;
};

export default async function* umlReporter(source) {
  /** Names of the tests currently open, by nesting level, per file. */
  const open = new Map();
  for await (const event of source) {
    const { type, data } = event;
    if (type === "test:start") {
      const stack = open.get(data.file) ?? [];
      stack.length = data.nesting;
      stack.push(data.name);
      open.set(data.file, stack);
      continue;
    }
    if (type !== "test:pass" && type !== "test:fail") continue;
    if (data.details?.type === "suite" && type === "test:pass") continue;
    const stack = (open.get(data.file) ?? []).slice(0, data.nesting);
    const file = data.file ? relative(process.cwd(), data.file) : "?";
    yield `${JSON.stringify({
      name: [file, ...stack, data.name].join(" › "),
      outcome:
        type === "test:pass"
          ? data.skip !== undefined
            ? "skip"
            : data.todo !== undefined
              ? "todo"
              : "pass"
          : "fail",
      reason: typeof data.skip === "string" ? data.skip : undefined,
      suite: data.details?.type === "suite",
      durationMs: Math.round(data.details?.duration_ms ?? 0),
      error: type === "test:fail" ? message(data.details?.error) : undefined,
    })}\n`;
  }
}
