/** apply with a scripted `ip`: per-item results from "Command failed -:LINE", idempotent deletes, aborts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Exec, ExecRequest } from "../../../src/host/exec.ts";
import { applyKernelOps } from "../../../src/host/kernel/apply.ts";
import { diffKernel } from "../../../src/host/kernel/diff.ts";
import { BATCH_MARKER } from "../../../src/host/kernel/ip-batch.ts";
import { KernelApplier } from "../../../src/host/kernel/kernel-applier.ts";
import type { SysctlIo } from "../../../src/host/kernel/sysctl.ts";
import type { KernelOp, KernelOps } from "../../../src/host/kernel/types.ts";
import { emptyObserved, PROTO, seedState } from "./seed-state.ts";

/**
 * A fake `ip -j -force -batch`: lines matching `fail` print their error and "Command failed -:N";
 * lines matching `abort` print their error and stop the process with that exit code, as iproute2
 * does for `neigh` kernel errors (exit 2) and missing-device arguments (exit 255). Markers print "[]".
 */
function fakeIp(fail: Array<[RegExp, string]> = [], abort: Array<[RegExp, string, number]> = []) {
  const calls: ExecRequest[] = [];
  const exec: Exec = async (req) => {
    calls.push(req);
    const lines = (req.stdin ?? "").split("\n").filter(Boolean);
    let stderr = "";
    let stdout = "";
    let failed = false;
    for (const [i, line] of lines.entries()) {
      if (line === BATCH_MARKER) {
        stdout += "[]\n";
        continue;
      }
      const a = abort.find(([re]) => re.test(line));
      if (a) return { code: a[2], stdout, stderr: `${stderr}${a[1]}\n` };
      const f = fail.find(([re]) => re.test(line));
      if (f) {
        stderr += `${f[1]}\nCommand failed -:${i + 1}\n`;
        failed = true;
      }
    }
    return { code: failed ? 1 : 0, stdout, stderr };
  };
  return { exec, calls };
}

const noSysctl: SysctlIo = {
  read: async () => new Map(),
  write: async () => ({ errors: new Map(), processes: 1 }),
};

const op = (
  kind: KernelOp["kind"],
  key: string,
  verb: KernelOp["op"],
  lines: string[],
  channel: KernelOp["channel"] = "ip",
): KernelOp => ({
  kind,
  key,
  op: verb,
  channel,
  lines,
});

describe("kernel apply", () => {
  it("sends all ops in one batch and maps each failed line back to its item", async () => {
    const ops = diffKernel(seedState({ providerVm: false }), emptyObserved(), {
      routeProtocol: PROTO,
      rtTablesDropin: "/nonexistent-dir/x/y.conf",
    });
    const ipOnly: KernelOps = {
      ...ops,
      ops: ops.ops.filter((o) => o.channel === "ip" || o.channel === "ip6"),
    };
    const { exec, calls } = fakeIp([], [[/^neigh replace/, "RTNETLINK answers: Invalid argument", 2]]);
    const { report } = await applyKernelOps(ipOnly, { exec, netns: "nsX", sysctl: noSysctl });
    assert.equal(calls.length, 3, "one batch, its remainder after the neigh abort, one for IPv6 rules");
    assert.deepEqual(calls[0]?.argv, ["ip", "-j", "-force", "-batch", "-"]);
    assert.deepEqual(calls[1]?.argv, ["ip", "-j", "-force", "-batch", "-"]);
    assert.deepEqual(calls[2]?.argv, ["ip", "-6", "-j", "-force", "-batch", "-"]);
    assert.equal(calls[0]?.netns, "nsX");
    const failed = report.items.filter((i) => !i.ok);
    assert.deepEqual(
      failed.map((i) => [i.kind, i.key]),
      [["neighbour", "br-ex|172.24.4.163"]],
    );
    assert.match(failed[0]?.error ?? "", /neigh replace 172\.24\.4\.163 .*Invalid argument/);
    assert.equal(report.counts.failed, 1);
    assert.equal(report.counts.ok, ipOnly.ops.length - 1);
    assert.equal(report.processes, 3);
    assert.ok(
      report.items.some((i) => i.kind === "rule" && i.ok),
      "lines after the abort were sent again",
    );
  });

  it("treats deleting something already gone as success, and says when a foreign object holds a key", async () => {
    const plan: KernelOps = {
      ops: [
        op("neighbour", "br-ex|1.1.1.1", "del", ["neigh del 1.1.1.1 dev br-ex"]),
        op("route", "4|200|1.1.1.1/32", "del", ["route del 1.1.1.1/32 table 200 proto 240"]),
        op("address", "br-ex|169.254.1.1/32", "del", ["address del 169.254.1.1/32 dev br-ex"]),
        op("rule", "4|32000|1.1.1.1/32|200", "del", [
          "rule del to 1.1.1.1/32 lookup 200 priority 32000 protocol 240",
        ]),
        op("route", "4|200|2.2.2.2/32", "add", [
          "route add 2.2.2.2/32 dev br-ex table 200 proto 240 scope link",
        ]),
      ],
      blocked: [],
      problems: [],
    };
    const { exec } = fakeIp(
      [
        [/^route del/, "RTNETLINK answers: No such process"],
        [/^address del/, "Error: ipv4: Address not found."],
        [/^rule del/, "RTNETLINK answers: No such file or directory"],
        [/^route add/, "RTNETLINK answers: File exists"],
      ],
      [[/^neigh del/, "RTNETLINK answers: No such file or directory", 2]],
    );
    const { report } = await applyKernelOps(plan, { exec, sysctl: noSysctl });
    assert.deepEqual(
      report.items.map((i) => i.ok),
      [true, true, true, true, false],
    );
    assert.match(
      report.items[4]?.error ?? "",
      /File exists \(an object that is not ours already holds this key\)/,
    );
  });

  it("an abort on a neighbour or device line blames exactly that line and resends the rest", async () => {
    const plan: KernelOps = {
      ops: [
        op("link", "a", "add", ["link add name a type dummy", "link set dev a up"], "link"),
        op("link", "b", "add", ["link add name b type dummy", "link set dev b master zz up"], "link"),
        op("link", "c", "add", ["link add name c type dummy", "link set dev c up"], "link"),
      ],
      blocked: [],
      problems: [],
    };
    const { exec, calls } = fakeIp(
      [[/^link add name a /, "RTNETLINK answers: File exists"]],
      [[/master zz/, 'Error: argument "zz" is wrong: Device does not exist', 255]],
    );
    const { report } = await applyKernelOps(plan, { exec, sysctl: noSysctl });
    assert.deepEqual(
      report.items.map((i) => i.ok),
      [false, true, true].map((_, i) => i === 2),
    );
    assert.match(report.items[0]?.error ?? "", /File exists/);
    assert.match(report.items[1]?.error ?? "", /master zz up": Error: argument "zz" is wrong/);
    assert.equal(calls.length, 2);
    assert.equal(
      calls[1]?.stdin,
      `link add name c type dummy\n${BATCH_MARKER}\nlink set dev c up\n${BATCH_MARKER}\n`,
    );
  });

  /** What apply did, in order: each batch (its lines, markers left out) and each settle pause. */
  function recorder() {
    const steps: string[] = [];
    const { exec: inner } = fakeIp();
    const exec: Exec = async (req) => {
      steps.push(
        (req.stdin ?? "")
          .split("\n")
          .filter((l) => l && l !== BATCH_MARKER)
          .join(" | "),
      );
      return inner(req);
    };
    const sleep = async (ms: number) => {
      steps.push(`settle ${ms} ms`);
    };
    return { steps, ctx: { exec, sysctl: noSysctl, deviceSettleMs: 300, sleep } };
  }

  it("after creating a VRF or dummy the address lines wait (zebra drops addresses that follow too closely)", async () => {
    const link = (kind: string, line: string): KernelOp => ({
      ...op("link", "dev", "add", [line], "link"),
      linkKind: kind,
    });
    const address = op("address", "bgp-nic|172.24.4.92/32", "add", [
      "address replace 172.24.4.92/32 dev bgp-nic",
    ]);
    const plan = (first: KernelOp): KernelOps => ({ ops: [first, address], blocked: [], problems: [] });
    const dummy = recorder();
    await applyKernelOps(plan(link("dummy", "link add name bgp-nic type dummy")), dummy.ctx);
    assert.deepEqual(dummy.steps, [
      "link add name bgp-nic type dummy",
      "settle 300 ms",
      "address replace 172.24.4.92/32 dev bgp-nic",
    ]);
    // Other devices settle nothing.
    const vlan = recorder();
    await applyKernelOps(plan(link("vlan", "link add link br-ex name br-ex.100 type vlan id 100")), vlan.ctx);
    assert.deepEqual(vlan.steps, [
      "link add link br-ex name br-ex.100 type vlan id 100",
      "address replace 172.24.4.92/32 dev bgp-nic",
    ]);
  });

  it("a VRF that goes is removed in steps: its dummy, then the VRF, then what is created", async () => {
    const link = (key: string, verb: KernelOp["op"], kind: string, line: string): KernelOp => ({
      ...op("link", key, verb, [line], "link"),
      linkKind: kind,
    });
    const plan: KernelOps = {
      ops: [
        link("bgp-vrf", "del", "vrf", "link del dev bgp-vrf"),
        link("bgp-nic", "del", "dummy", "link del dev bgp-nic"),
        link("ovn-bgp-vrf", "add", "vrf", "link add name ovn-bgp-vrf type vrf table 10"),
        link("ovn", "add", "dummy", "link add name ovn type dummy"),
        op("address", "ovn|172.24.4.92/32", "add", ["address replace 172.24.4.92/32 dev ovn"]),
      ],
      blocked: [],
      problems: [],
    };
    const r = recorder();
    await applyKernelOps(plan, r.ctx);
    assert.deepEqual(r.steps, [
      "link del dev bgp-nic",
      "settle 300 ms",
      "link del dev bgp-vrf",
      "settle 300 ms",
      "link add name ovn-bgp-vrf type vrf table 10 | link add name ovn type dummy",
      "settle 300 ms",
      "address replace 172.24.4.92/32 dev ovn",
    ]);
  });

  it("an abort on a line that should not abort leaves every later line unknown (failed, never 'gone')", async () => {
    const plan: KernelOps = {
      ops: [
        op("route", "r1", "del", ["route del 1.1.1.1/32 table 200 proto 240"]),
        op("route", "r2", "del", ["route del 2.2.2.2/32 table 200 proto 240"]),
      ],
      blocked: [],
      problems: [],
    };
    const { exec } = fakeIp([], [[/1\.1\.1\.1/, "RTNETLINK answers: No such process", 134]]);
    const { report } = await applyKernelOps(plan, { exec, sysctl: noSysctl });
    assert.deepEqual(
      report.items.map((i) => i.ok),
      [false, false],
    );
    assert.match(report.items[1]?.error ?? "", /outcome unknown/);
  });

  it("reports ONE problem when the kernel cannot create vrf/dummy devices, and applies the rest", async () => {
    const { exec, calls } = fakeIp(
      [
        [/^link add .* type (vrf|dummy)/, "Error: Unknown device type."],
        [/^link set dev bgp-vrf/, 'Cannot find device "bgp-vrf"'],
        [/dev bgp-nic/, 'Cannot find device "bgp-nic"'],
      ],
      [
        [
          /^link set dev bgp-nic .*master bgp-vrf/,
          'Error: argument "bgp-vrf" is wrong: Device does not exist',
          255,
        ],
      ],
    );
    const applier = new KernelApplier({
      exec: async (req) => {
        if (req.argv.includes("-N")) {
          const n = (req.stdin ?? "").split("\n").filter(Boolean).length;
          const links = '[{"ifname":"br-ex","flags":["UP"],"linkinfo":{"info_kind":"bridge"}}]';
          return { code: 0, stdout: [links, ...Array(n - 1).fill("[]")].join("\n"), stderr: "" };
        }
        return exec(req);
      },
      netns: "nsY",
      routeProtocol: PROTO,
      rtTablesDropin: "/nonexistent-dir/rt.conf",
      sysctl: noSysctl,
    });
    const d = { ...seedState({ layout: "vrf" }), routingTables: undefined };
    const first = await applier.sync(d);
    assert.equal(first.problems.length, 1);
    assert.match(first.problems[0] ?? "", /cannot create dummy and vrf devices.*set announce_via = table/);
    assert.ok(
      first.items.some((i) => i.kind === "rule" && i.ok),
      "rules still applied",
    );
    assert.ok(
      first.items.some((i) => i.kind === "route" && i.ok),
      "routes still applied",
    );
    const writes = calls.length;
    // Second pass: the applier remembers; no device line is sent again, and the message stays single.
    const second = await applier.sync(d);
    assert.equal(second.problems.length, 1);
    assert.ok(calls.slice(writes).every((c) => !(c.stdin ?? "").includes("link add")));
    assert.ok(second.items.some((i) => i.key === "bgp-vrf" && !i.ok));
  });

  it("an empty diff starts no process", async () => {
    const { exec, calls } = fakeIp();
    const { report } = await applyKernelOps(
      { ops: [], blocked: [], problems: [] },
      { exec, sysctl: noSysctl },
    );
    assert.equal(calls.length, 0);
    assert.equal(report.processes, 0);
    assert.deepEqual(report.items, []);
  });

  it("a failing sysctl write is reported on its item", async () => {
    const plan: KernelOps = {
      ops: [
        {
          kind: "sysctl",
          key: "a",
          op: "replace",
          channel: "sysctl",
          lines: [],
          sysctl: { key: "a", path: "net/a", value: "1" },
        },
        {
          kind: "sysctl",
          key: "b",
          op: "replace",
          channel: "sysctl",
          lines: [],
          sysctl: { key: "b", path: "net/b", value: "1" },
        },
      ],
      blocked: [],
      problems: [],
    };
    const sysctl: SysctlIo = {
      read: async () => new Map(),
      write: async () => ({ errors: new Map([["net/b", "permission denied"]]), processes: 2 }),
    };
    const { report } = await applyKernelOps(plan, { exec: fakeIp().exec, sysctl });
    assert.deepEqual(
      report.items.map((i) => [i.key, i.ok, i.error]),
      [
        ["a", true, undefined],
        ["b", false, "permission denied"],
      ],
    );
  });
});
