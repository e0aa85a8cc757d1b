import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { componentLogger, createLogger, formatTextLine, resolveLogLevel } from "../../../src/util/log.ts";

function capture(): { lines: string[]; write(s: string): void } {
  const lines: string[] = [];
  return {
    lines,
    write(s: string) {
      lines.push(...s.split("\n").filter((l) => l !== ""));
    },
  };
}

describe("logger", () => {
  test("JSON lines carry level name, component and the event fields", () => {
    const out = capture();
    const log = componentLogger(createLogger({ level: "info", destination: out }), "ovsdb");
    log.info(
      { event: "PortBindingChassisCreatedEvent", logical_port: "vm1", ips: ["172.24.4.92"] },
      "port bound",
    );
    log.debug("not shown at info");
    assert.equal(out.lines.length, 1);
    const rec = JSON.parse(out.lines[0] ?? "{}") as Record<string, unknown>;
    assert.equal(rec.level, "info");
    assert.equal(rec.component, "ovsdb");
    assert.equal(rec.event, "PortBindingChassisCreatedEvent");
    assert.deepEqual(rec.ips, ["172.24.4.92"]);
    assert.equal(rec.msg, "port bound");
    assert.equal(typeof rec.time, "string");
  });

  test("text format: time, level, [component], message, key=value", () => {
    const out = capture();
    const log = componentLogger(createLogger({ level: "debug", format: "text", destination: out }), "kernel");
    log.debug({ table: 200, bridge: "br-ex", note: "two words" }, "route added");
    assert.equal(out.lines.length, 1);
    assert.match(
      out.lines[0] ?? "",
      /^\d{4}-\d\d-\d\dT[\d:.]+Z DEBUG \[kernel\] route added table=200 bridge=br-ex note="two words"$/,
    );
  });

  test("text format prints an error's message and its stack indented below", () => {
    const line = formatTextLine(
      JSON.stringify({
        level: "error",
        msg: "apply failed",
        err: { message: "boom", stack: "Error: boom\n    at f (x.ts:1:1)" },
      }),
    );
    assert.equal(line, "ERROR apply failed err=boom\n    at f (x.ts:1:1)");
    assert.equal(formatTextLine("not json"), "not json");
  });

  test("level: flag, else OVN_BGP_LOG_LEVEL, else info; unknown names refused", () => {
    assert.equal(resolveLogLevel("warn", { OVN_BGP_LOG_LEVEL: "debug" }), "warn");
    assert.equal(resolveLogLevel(undefined, { OVN_BGP_LOG_LEVEL: "DEBUG" }), "debug");
    assert.equal(resolveLogLevel(undefined, {}), "info");
    assert.throws(
      () => resolveLogLevel(undefined, { OVN_BGP_LOG_LEVEL: "verbose" }),
      /unknown log level 'verbose'/,
    );
  });
});
