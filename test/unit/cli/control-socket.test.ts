/**
 * The control socket (src/control): the unixctl shape ovs-appctl speaks, errors as answers, a stale
 * socket replaced, a live one refused, and run-time log levels reaching existing child loggers.
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ControlError, callControl } from "../../../src/control/control-client.ts";
import {
  type ControlCommand,
  ControlSocketBusyError,
  startControlServer,
} from "../../../src/control/control-server.ts";
import { createLogger, setLoggerLevel } from "../../../src/util/log.ts";
import { makeTempDir } from "../../support/temp-dir.ts";

const commands = new Map<string, ControlCommand>([
  ["echo", { usage: "ARGS...", handler: (args) => `${args.join(" ")}\n` }],
  [
    "fail",
    {
      usage: "",
      handler: () => {
        throw new Error("it failed on purpose");
      },
    },
  ],
]);

describe("control socket", () => {
  test("answers commands as unixctl does: result text, error null; id echoed", async () => {
    const path = join(makeTempDir("ctl"), "run", "agent.ctl");
    const server = await startControlServer(path, commands);
    try {
      assert.equal(await callControl(path, "echo", ["a", "b"]), "a b\n");
      assert.match(await callControl(path, "list-commands"), /echo ARGS\.\.\.[\s\S]*list-commands/);
      await assert.rejects(
        callControl(path, "fail"),
        (e: Error) => e instanceof ControlError && /on purpose/.test(e.message),
      );
      await assert.rejects(callControl(path, "nope"), /"nope" is not a valid command/);
      // The raw protocol, as ovs-appctl writes it.
      const raw = await new Promise<string>((resolve, reject) => {
        const s = createConnection(path);
        let got = "";
        s.on("connect", () => s.write('{"method":"echo","params":["x"],"id":7}'));
        s.on("data", (d) => {
          got += d.toString();
          s.destroy();
          resolve(got);
        });
        s.on("error", reject);
      });
      assert.deepEqual(JSON.parse(raw), { id: 7, result: "x\n", error: null });
    } finally {
      await server.close();
    }
  });

  test("a socket nobody answers on is replaced; one that answers refuses the second server", async () => {
    const path = join(makeTempDir("ctl"), "agent.ctl");
    const first = await startControlServer(path, commands);
    await assert.rejects(startControlServer(path, commands), ControlSocketBusyError);
    await first.close();
    // close() leaves the file behind (as a killed agent would): the next start takes it over.
    const second = await startControlServer(path, commands);
    assert.equal(await callControl(path, "echo", ["again"]), "again\n");
    await second.close();
  });

  test("a regular file where the socket should be is refused, never deleted", async () => {
    const path = join(makeTempDir("ctl"), "agent.ctl");
    writeFileSync(path, "not a socket");
    await assert.rejects(startControlServer(path, commands), /not a socket/);
    assert.ok(existsSync(path));
  });

  test("no agent: the client says so, naming the socket", async () => {
    const path = join(makeTempDir("ctl"), "missing.ctl");
    await assert.rejects(callControl(path, "status"), /missing\.ctl: ENOENT: is the agent running/);
  });
});

describe("setLoggerLevel", () => {
  test("reaches children and grandchildren made before the change", () => {
    const lines: string[] = [];
    const root = createLogger({ level: "info", destination: { write: (l: string) => lines.push(l) } });
    const child = root.child({ component: "agent" });
    const grandchild = child.child({ sub: 1 });
    grandchild.debug("hidden");
    assert.equal(lines.length, 0);
    setLoggerLevel(root, "debug");
    grandchild.debug("shown");
    child.debug("shown too");
    assert.equal(lines.length, 2);
    setLoggerLevel(root, "warn");
    child.info("hidden again");
    assert.equal(lines.length, 2);
  });
});
