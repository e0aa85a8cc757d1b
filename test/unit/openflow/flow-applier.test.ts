/** The flow applier's decisions over a scripted ovs-ofctl/ovs-vsctl (the real switch is in test/integration/openflow). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Exec, ExecRequest, ExecResult } from "../../../src/host/exec.ts";
import { diffFlows, flowModLines } from "../../../src/host/openflow/diff-flows.ts";
import { FlowApplier } from "../../../src/host/openflow/flow-applier.ts";
import type { FlowSpec } from "../../../src/plan/desired-state.ts";

const rundir = mkdtempSync(join(tmpdir(), "obt-flows-"));
after(() => rmSync(rundir, { recursive: true, force: true }));
writeFileSync(join(rundir, "br-ex.mgmt"), "");
writeFileSync(join(rundir, "br-vlan.mgmt"), "");

const PATCH = "patch-provnet-0d5b0c1e-to-br-int";
const flow = (match: string, extra: Partial<FlowSpec> = {}): FlowSpec => ({
  bridge: "br-ex",
  cookie: 999,
  priority: 900,
  match,
  actions: "mod_dl_dst:3e:81:10:88:d3:4a,NORMAL",
  ...extra,
});

interface Switch {
  flows: Record<string, string>;
  ports: Record<string, string>;
  ofports: Array<[string, number]>;
  failBundle?: boolean;
  failBridge?: string;
}

function fakeOvs(sw: Switch, calls: ExecRequest[]): Exec {
  return async (req): Promise<ExecResult> => {
    calls.push(req);
    const a = req.argv;
    const ok = (stdout: string) => ({ code: 0, stdout, stderr: "" });
    const br = (a.find((x) => x.startsWith("unix:")) ?? "").replace(/^unix:.*\//, "").replace(/\.mgmt$/, "");
    if (sw.failBridge && br === sw.failBridge)
      return { code: 1, stdout: "", stderr: "ovs-ofctl: connection reset" };
    if (a[0] === "ovs-vsctl") return ok(JSON.stringify({ headings: ["name", "ofport"], data: sw.ofports }));
    if (a.includes("dump-ports-desc")) return ok(sw.ports[br] ?? "");
    if (a.includes("dump-flows")) return ok(sw.flows[br] ?? "");
    if (a.includes("add-flows")) {
      if (a.includes("--bundle") && sw.failBundle)
        return {
          code: 1,
          stdout: "",
          stderr:
            "ovs-ofctl: version negotiation failed (we support version 0x05, peer supports version 0x01)",
        };
      return ok("");
    }
    return { code: 1, stdout: "", stderr: `unexpected ${a.join(" ")}` };
  };
}

describe("diffFlows", () => {
  it("keeps equal flows, replaces changed actions with an add, deletes strictly by cookie", () => {
    const d = diffFlows(
      [
        { spec: flow("ip,in_port=1"), match: "ip,in_port=1" },
        { spec: flow("ipv6,in_port=1", { actions: "NORMAL" }), match: "ipv6,in_port=1" },
      ],
      [
        {
          cookie: 999n,
          table: 0,
          priority: 900,
          match: "in_port=1,ip",
          actions: "mod_dl_dst:3E:81:10:88:D3:4A,NORMAL",
        },
        { cookie: 999n, table: 0, priority: 900, match: "ipv6,in_port=1", actions: "drop" },
        { cookie: 999n, table: 0, priority: 900, match: "ip,in_port=2", actions: "NORMAL" },
      ],
    );
    assert.equal(d.unchanged, 1);
    assert.deepEqual(flowModLines(d), [
      "add cookie=0x3e7,priority=900,ipv6,in_port=1,actions=NORMAL",
      "delete_strict cookie=0x3e7/-1,table=0,priority=900,ip,in_port=2",
    ]);
  });
});

describe("FlowApplier", () => {
  const sw = (): Switch => ({
    flows: {
      "br-ex": " cookie=0x3e7, priority=900,ip,in_port=4 actions=mod_dl_dst:3e:81:10:88:d3:4a,NORMAL\n",
    },
    ports: {
      "br-ex": " 4(patch-provnet-0): addr:fa:f8:10:31:3e:30\n LOCAL(br-ex): addr:3e:81:10:88:d3:4a\n",
    },
    ofports: [[PATCH, 4]],
  });

  it("resolves long patch port names to OpenFlow numbers and writes only the missing flow, in one bundle", async () => {
    const calls: ExecRequest[] = [];
    const a = new FlowApplier({ rundir, ownedCookies: [999], exec: fakeOvs(sw(), calls) });
    const res = await a.sync([flow(`ip,in_port=${PATCH}`), flow(`ipv6,in_port=${PATCH}`)]);
    assert.equal(res.bridges[0]?.unchanged, 1);
    const writes = calls.filter((c) => c.argv.includes("add-flows"));
    assert.equal(writes.length, 1);
    assert.ok(writes[0]?.argv.includes("--bundle"));
    assert.equal(
      writes[0]?.stdin,
      "add cookie=0x3e7,priority=900,ipv6,in_port=4,actions=mod_dl_dst:3e:81:10:88:d3:4a,NORMAL\n",
    );
    assert.equal(writes[0]?.env?.OVS_RUNDIR, rundir);
  });

  it("puts ovs_command_prefix before every ovs-ofctl and ovs-vsctl", async () => {
    const calls: ExecRequest[] = [];
    const strip: Exec = (req) => {
      calls.push(req);
      assert.deepEqual(req.argv.slice(0, 2), ["chroot-exec", "trixie"], req.argv.join(" "));
      return fakeOvs(sw(), [])({ ...req, argv: req.argv.slice(2) });
    };
    const a = new FlowApplier({
      rundir,
      ownedCookies: [999],
      commandPrefix: ["chroot-exec", "trixie"],
      exec: strip,
    });
    await a.sync([flow(`ip,in_port=${PATCH}`), flow(`ipv6,in_port=${PATCH}`)]);
    assert.ok(calls.some((c) => c.argv[2] === "ovs-vsctl"));
    assert.ok(calls.some((c) => c.argv.includes("add-flows")));
  });

  it("does not use a port of the same number whose name differs (port of another bridge)", async () => {
    const s = sw();
    s.ports["br-ex"] = " 4(patch-provnet-9): addr:fa:f8:10:31:3e:30\n";
    const a = new FlowApplier({ rundir, ownedCookies: [999], exec: fakeOvs(s, []) });
    const res = await a.sync([flow(`ip,in_port=${PATCH}`)]);
    assert.deepEqual(
      res.bridges[0]?.pending.map((p) => p.reason),
      [`port ${PATCH} is not on bridge br-ex`],
    );
    assert.equal(res.bridges[0]?.removed.length, 1, "the stale flow on port 4 goes");
  });

  it("falls back to a plain add-flows (still one process) when the bridge refuses bundles", async () => {
    const calls: ExecRequest[] = [];
    const s = { ...sw(), failBundle: true };
    const a = new FlowApplier({ rundir, ownedCookies: [999], exec: fakeOvs(s, calls) });
    const res = await a.sync([], ["br-ex"]);
    assert.equal(res.bridges[0]?.removed.length, 1);
    const writes = calls.filter((c) => c.argv.includes("add-flows"));
    assert.deepEqual(
      writes.map((c) => c.argv.includes("--bundle")),
      [true, false],
    );
  });

  it("isolates invalid specs and failing bridges; other bridges still sync", async () => {
    const calls: ExecRequest[] = [];
    const s: Switch = { ...sw(), failBridge: "br-vlan" };
    const a = new FlowApplier({ rundir, ownedCookies: [999], exec: fakeOvs(s, calls) });
    const res = await a.sync([
      flow(`ip,in_port=${PATCH}`),
      flow("ip,in_port=1", { bridge: "br-vlan" }),
      flow("ip,in_port=1", { actions: "mod_dl_dst:nope,NORMAL" }),
    ]);
    assert.equal(res.invalid.length, 1);
    assert.match(res.invalid[0]?.reason ?? "", /invalid MAC/);
    assert.match(res.bridges.find((b) => b.bridge === "br-vlan")?.error ?? "", /connection reset/);
    assert.equal(res.bridges.find((b) => b.bridge === "br-ex")?.unchanged, 1);
  });

  it("refuses cookie 0, which would select the bridge's unmarked flows", () => {
    assert.throws(() => new FlowApplier({ ownedCookies: [0] }), /non-zero/);
  });
});
