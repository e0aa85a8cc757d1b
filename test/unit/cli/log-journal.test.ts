import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  formatTextLine,
  journalPriority,
  type LogFormat,
  stderrIsJournal,
  withJournalPriority,
} from "../../../src/util/log.ts";

/** Collects what the logger writes, one entry per physical line. */
function capture(): { lines: string[]; write(s: string): void } {
  const lines: string[] = [];
  return {
    lines,
    write(s: string) {
      assert.ok(s.endsWith("\n"), "every write is a complete line");
      lines.push(...s.slice(0, -1).split("\n"));
    },
  };
}

function logAllLevels(format: LogFormat, journal?: boolean): string[] {
  const out = capture();
  const log = createLogger({
    level: "trace",
    format,
    destination: out,
    ...(journal === undefined ? {} : { journal }),
  });
  log.trace("t");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  log.fatal("f");
  return out.lines;
}

const EXPECTED_PRIORITIES = ["<7>", "<7>", "<6>", "<4>", "<3>", "<2>"];

describe("journal priorities", () => {
  test("journalPriority maps level names and pino numbers to syslog priorities", () => {
    assert.deepEqual(
      ["trace", "debug", "info", "warn", "error", "fatal"].map(journalPriority),
      [7, 7, 6, 4, 3, 2],
    );
    assert.deepEqual([10, 20, 30, 40, 50, 60].map(journalPriority), [7, 7, 6, 4, 3, 2]);
    assert.equal(journalPriority("WARN"), 4);
    assert.equal(journalPriority("silent"), undefined);
    assert.equal(journalPriority(35), undefined);
  });

  test("JSON lines get the prefix per level and stay the same JSON after it", () => {
    const lines = logAllLevels("json", true);
    assert.equal(lines.length, 6);
    lines.forEach((line, i) => {
      const prefix = EXPECTED_PRIORITIES[i] ?? "";
      assert.ok(line.startsWith(`${prefix}{`), line);
      const rec = JSON.parse(line.slice(prefix.length)) as Record<string, unknown>;
      assert.equal(rec.msg, ["t", "d", "i", "w", "e", "f"][i]);
    });
  });

  test("text lines get the prefix per level before the usual text", () => {
    const lines = logAllLevels("text", true);
    assert.equal(lines.length, 6);
    lines.forEach((line, i) => {
      assert.match(line, /^<\d>\d{4}-\d\d-\d\dT[\d:.]+Z [A-Z]+ +\S$/);
      assert.ok(line.startsWith(EXPECTED_PRIORITIES[i] ?? ""), line);
    });
    assert.match(lines[3] ?? "", /^<4>\S+ WARN {2}w$/);
  });

  test("without journal (the default with an explicit destination) no prefix is written", () => {
    for (const format of ["json", "text"] as const) {
      for (const line of [...logAllLevels(format), ...logAllLevels(format, false)]) {
        assert.doesNotMatch(line, /^</, line);
      }
    }
    const [json] = logAllLevels("json");
    assert.doesNotThrow(() => JSON.parse(json ?? ""));
  });

  test("a text line's stack trace lines carry the same priority", () => {
    const out = capture();
    const log = createLogger({ level: "info", format: "text", destination: out, journal: true });
    const err = new Error("boom");
    err.stack = "Error: boom\n    at f (x.ts:1:1)\n    at g (y.ts:2:2)";
    log.error({ err }, "apply failed");
    assert.equal(out.lines.length, 3);
    assert.match(out.lines[0] ?? "", /^<3>\S+ ERROR apply failed err=boom$/);
    assert.deepEqual(out.lines.slice(1), ["<3>    at f (x.ts:1:1)", "<3>    at g (y.ts:2:2)"]);
  });

  test("JSON lines with an error stay one line (the stack is escaped inside the JSON)", () => {
    const out = capture();
    const log = createLogger({ level: "info", destination: out, journal: true });
    log.warn({ err: new Error("boom") }, "retrying");
    assert.equal(out.lines.length, 1);
    assert.ok(out.lines[0]?.startsWith("<4>{"));
  });

  test("withJournalPriority leaves lines of an unknown level unprefixed", () => {
    assert.equal(withJournalPriority("a\nb", "warn"), "<4>a\n<4>b");
    assert.equal(withJournalPriority("a", undefined), "a");
    assert.equal(withJournalPriority("a", "verbose"), "a");
  });
});

describe("stderrIsJournal", () => {
  const stat = (dev: number | bigint, ino: number | bigint) => () => ({ dev, ino });

  test("true only when JOURNAL_STREAM equals fd 2's dev:ino", () => {
    assert.equal(stderrIsJournal({ JOURNAL_STREAM: "8:12345" }, stat(8, 12345)), true);
    assert.equal(stderrIsJournal({ JOURNAL_STREAM: "8:12345" }, stat(8n, 12345n)), true);
    // Large inode numbers compare exactly (bigint stat).
    assert.equal(
      stderrIsJournal({ JOURNAL_STREAM: "64768:18446744073709551000" }, stat(64768n, 18446744073709551000n)),
      true,
    );
  });

  test("a mismatch (stderr redirected by a child of the service) means no journal", () => {
    assert.equal(stderrIsJournal({ JOURNAL_STREAM: "8:12345" }, stat(8, 99999)), false);
    assert.equal(stderrIsJournal({ JOURNAL_STREAM: "8:12345" }, stat(9, 12345)), false);
  });

  test("no variable, an empty one, or a failing fstat means no journal", () => {
    let called = false;
    const spy = () => {
      called = true;
      return { dev: 8, ino: 1 };
    };
    assert.equal(stderrIsJournal({}, spy), false);
    assert.equal(stderrIsJournal({ JOURNAL_STREAM: "" }, spy), false);
    assert.equal(called, false, "fd 2 is not looked at without the variable");
    assert.equal(
      stderrIsJournal({ JOURNAL_STREAM: "8:1" }, () => {
        throw new Error("EBADF");
      }),
      false,
    );
  });

  test("the real fd 2 of this test run is not taken for the journal with a made-up value", () => {
    assert.equal(stderrIsJournal({ JOURNAL_STREAM: "0:0" }), false);
  });

  test("createLogger detects it on its own from the real fd 2 (no option, no flag)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ovn-bgp-journal-test-"));
    try {
      const logModule = fileURLToPath(new URL("../../../src/util/log.ts", import.meta.url));
      const script = `import { createLogger } from ${JSON.stringify(logModule)}; createLogger().warn("w");`;
      const run = (journalStream: (st: { dev: bigint; ino: bigint }) => string): string => {
        const path = join(dir, `stderr-${Math.random()}`);
        const fd = openSync(path, "w");
        try {
          const st = fstatSync(fd, { bigint: true });
          const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
            stdio: ["ignore", "ignore", fd],
            env: { ...process.env, JOURNAL_STREAM: journalStream(st) },
          });
          assert.equal(r.status, 0);
        } finally {
          closeSync(fd);
        }
        return readFileSync(path, "utf8");
      };
      assert.match(
        run((st) => `${st.dev}:${st.ino}`),
        /^<4>\{"level":"warn",.*"msg":"w"\}\n$/,
      );
      assert.match(
        run((st) => `${st.dev}:${st.ino + 1n}`),
        /^\{"level":"warn",.*"msg":"w"\}\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("text format err", () => {
  test("a string err is shown, quoted when it has spaces", () => {
    assert.equal(
      formatTextLine(JSON.stringify({ level: "warn", msg: "connect failed", err: "connect ENOENT /x" })),
      'WARN  connect failed err="connect ENOENT /x"',
    );
    assert.equal(
      formatTextLine(JSON.stringify({ level: "warn", msg: "connect failed", err: "ENOENT" })),
      "WARN  connect failed err=ENOENT",
    );
  });

  test("through the logger: the string reason comes after the other fields", () => {
    const out = capture();
    const log = createLogger({ level: "info", format: "text", destination: out });
    log.warn({ err: "connect ENOENT /x", remote: "unix:/x" }, "msg");
    assert.equal(out.lines.length, 1);
    assert.match(out.lines[0] ?? "", / WARN {2}msg remote=unix:\/x err="connect ENOENT \/x"$/);
  });

  test("error objects keep their message and stack", () => {
    const line = formatTextLine(
      JSON.stringify({
        level: "error",
        msg: "apply failed",
        err: { type: "Error", message: "boom", stack: "Error: boom\n    at f (x.ts:1:1)" },
      }),
    );
    assert.equal(line, "ERROR apply failed err=boom\n    at f (x.ts:1:1)");
  });
});
