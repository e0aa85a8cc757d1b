/** vtysh failures become errors with stable codes; a dead FRR names the socket directory. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Exec, ExecRequest } from "../../../src/host/exec.ts";
import { FrrApplier } from "../../../src/host/frr/frr-applier.ts";
import { Vtysh } from "../../../src/host/frr/vtysh.ts";

const dir = mkdtempSync(join(tmpdir(), "obt-vtysh-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const fake =
  (
    reply: (req: ExecRequest) => { code: number; stdout?: string; stderr?: string },
    calls: ExecRequest[] = [],
  ): Exec =>
  async (req) => {
    calls.push(req);
    const r = reply(req);
    return { code: r.code, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };

describe("Vtysh", () => {
  it("fails with FRR_UNAVAILABLE naming the socket dir when the sockets are missing, without spawning", async () => {
    const calls: ExecRequest[] = [];
    const v = new Vtysh({ socketDir: join(dir, "nope"), exec: fake(() => ({ code: 0 }), calls) });
    await assert.rejects(v.runningConfig(), (e: Error & { code?: string }) => {
      assert.equal(e.code, "FRR_UNAVAILABLE");
      assert.ok(e.message.includes(join(dir, "nope")), e.message);
      return true;
    });
    assert.equal(calls.length, 0);
  });

  it("treats 'bgpd is not running' as unavailable, and rejected lines as FRR_COMMAND", async () => {
    writeFileSync(join(dir, "zebra.vty"), "");
    writeFileSync(join(dir, "bgpd.vty"), "");
    const down = new Vtysh({
      socketDir: dir,
      exec: fake(() => ({ code: 0, stdout: "bgpd is not running\n" })),
    });
    await assert.rejects(down.runningConfig(), { code: "FRR_UNAVAILABLE" });
    const calls: ExecRequest[] = [];
    const bad = new Vtysh({
      socketDir: dir,
      netns: "ns1",
      exec: fake(() => ({ code: 2, stderr: "line 2: % Unknown command[4]: bogus\n" }), calls),
    });
    await assert.rejects(bad.applyScript("router bgp 1\n bogus\nexit\n"), (e: Error & { code?: string }) => {
      assert.equal(e.code, "FRR_COMMAND");
      assert.match(e.message, /line 2: % Unknown command/);
      return true;
    });
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.argv.slice(0, 4), ["vtysh", "--vty_socket", dir, "-f"]);
    assert.equal(calls[0]?.netns, "ns1");
  });

  it("puts frr_command_prefix before vtysh (FRR in a container or another root)", async () => {
    writeFileSync(join(dir, "zebra.vty"), "");
    writeFileSync(join(dir, "bgpd.vty"), "");
    const calls: ExecRequest[] = [];
    const v = new Vtysh({
      socketDir: dir,
      commandPrefix: ["podman", "exec", "frr"],
      exec: fake(() => ({ code: 0, stdout: "frr version 10.3\nend\n" }), calls),
    });
    await v.runningConfig();
    assert.deepEqual(calls[0]?.argv.slice(0, 6), ["podman", "exec", "frr", "vtysh", "--vty_socket", dir]);
  });

  it("refuses another AS as a terminal FRR_CONFLICT, before writing", async () => {
    const calls: ExecRequest[] = [];
    const a = new FrrApplier({
      socketDir: dir,
      exec: fake(
        () => ({ code: 0, stdout: "router bgp 65001\n neighbor 1.1.1.1 remote-as 1\nexit\nend\n" }),
        calls,
      ),
    });
    await assert.rejects(a.sync({ asn: 64999, layout: "table", importTable: 200 }), { code: "FRR_CONFLICT" });
    assert.ok(calls.every((c) => !c.argv.includes("-f")));
  });

  it("reports a line FRR accepted but did not keep, instead of re-applying it forever", async () => {
    const a = new FrrApplier({
      socketDir: dir,
      exec: fake((req) => ({ code: 0, stdout: req.argv.includes("-c") ? "end\n" : "" })),
    });
    await assert.rejects(a.sync({ asn: 64999, layout: "table", importTable: 200 }), /did not keep/);
  });
});
