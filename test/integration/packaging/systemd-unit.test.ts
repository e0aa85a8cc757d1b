/**
 * The shipped systemd unit (issue 12 point 2): `systemd-analyze verify` accepts it, and the agent run
 * with exactly its privileges (its capabilities as ambient, bounding and inheritable sets, another
 * user, its supplementary groups, no_new_privs: what systemd would give it, applied with `setpriv`)
 * still applies the seed's state against real daemons: the ip rule, the br-ex flows, FRR's lines
 * and the spine's route. Without CAP_NET_ADMIN the same run fails, so the test can tell.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run } from "../../../src/host/exec.ts";
import { type AgentRig, CHASSIS, RIG, type RunningAgent, startAgentRig } from "../../support/agent-rig.ts";
import { frrUnavailable } from "../../support/frr.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ovsUnavailable } from "../../support/ovs-switch.ts";
import { waitFor } from "../../support/wait.ts";

const REPO = join(import.meta.dirname, "../../..");
const UNIT = join(REPO, "packaging/systemd/ovn-bgp-agent.service");
const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;

/** `Key=value` lines of the unit's [Service] section (a key given twice keeps the last). */
function serviceSettings(): Map<string, string> {
  const text = readFileSync(UNIT, "utf8");
  const service = text.slice(text.indexOf("[Service]"), text.indexOf("[Install]"));
  const out = new Map<string, string>();
  for (const line of service.split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out.set(m[1], m[2]);
  }
  return out;
}

/** CAP_NET_ADMIN → net_admin, as setpriv names them. */
const capName = (c: string) => c.replace(/^CAP_/, "").toLowerCase();
const CAP_BITS: Record<string, number> = { dac_override: 1, net_admin: 12, net_raw: 13, sys_admin: 21 };

/**
 * An unprivileged user that exists on every Debian host (vtysh refuses a uid without a passwd entry:
 * "could not lookup user ID"; the shipped sysusers file creates `ovn-bgp` for the unit). Using it
 * leaves /etc/passwd alone; what the agent creates as this user lives in the rig's temp dir.
 */
const USER = "nobody";
let UID = 65534;

async function gidOf(group: string): Promise<string> {
  const res = await run({ argv: ["getent", "group", group] });
  const gid = res.stdout.split(":")[2];
  assert.ok(res.code === 0 && gid, `group ${group} exists (the unit's SupplementaryGroups)`);
  return gid;
}

/** setpriv argv giving exactly `caps` (names as setpriv spells them) and the unit's groups. */
async function dropTo(caps: readonly string[], s: Map<string, string>): Promise<string[]> {
  const groups = await Promise.all(
    (s.get("SupplementaryGroups") ?? "").split(/\s+/).filter(Boolean).map(gidOf),
  );
  const set = ["-all", ...caps.map((c) => `+${c}`)].join(",");
  return [
    "setpriv",
    `--reuid=${UID}`,
    `--regid=${UID}`,
    groups.length ? `--groups=${groups.join(",")}` : "--clear-groups",
    `--inh-caps=${set}`,
    `--ambient-caps=${set}`,
    `--bounding-set=${set}`,
    ...(s.get("NoNewPrivileges") === "yes" ? ["--no-new-privs"] : []),
  ];
}

describe("the systemd unit", () => {
  test("systemd-analyze verify accepts it", async (t) => {
    const which = await run({ argv: ["sh", "-c", "command -v systemd-analyze"] });
    if (which.code !== 0) return t.skip("systemd-analyze is not installed");
    const res = await run({ argv: ["systemd-analyze", "verify", UNIT], timeoutMs: 60_000 });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(
      res.stderr
        .split("\n")
        .filter((l) => l.includes("ovn-bgp-agent.service"))
        .join("\n"),
      "",
    );
  });

  test("runs as a dedicated user with CAP_NET_ADMIN (+ DAC_OVERRIDE for OVS's root-owned sockets) only", () => {
    const s = serviceSettings();
    assert.equal(s.get("User"), "ovn-bgp");
    assert.equal(s.get("Type"), "notify");
    assert.equal(s.get("Restart"), "on-failure");
    assert.equal(s.get("AmbientCapabilities"), s.get("CapabilityBoundingSet"));
    assert.deepEqual((s.get("AmbientCapabilities") ?? "").split(/\s+/).sort(), [
      "CAP_DAC_OVERRIDE",
      "CAP_NET_ADMIN",
    ]);
    for (const k of ["NoNewPrivileges", "ProtectHome", "PrivateTmp"]) assert.equal(s.get(k), "yes", k);
    assert.equal(s.get("ProtectSystem"), "strict");
    assert.match(s.get("ExecReload") ?? "", /kill -HUP \$MAINPID/);
  });
});

describe("the agent with exactly the unit's privileges", { skip }, () => {
  let rig: AgentRig;
  let agent: RunningAgent;
  const settings = serviceSettings();
  const caps = (settings.get("AmbientCapabilities") ?? "").split(/\s+/).filter(Boolean).map(capName);

  before(async () => {
    const pw = await run({ argv: ["getent", "passwd", USER] });
    UID = Number(pw.stdout.split(":")[2] ?? UID);
    rig = await startAgentRig({ config: ["announce_via = table", "bgp_vrf_table_id = 199"] });
    await rig.central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    // br-int patched to br-ex, as ovn-controller leaves it: the MAC-rewrite flows then go on br-ex
    // (through its root-owned OpenFlow socket).
    await rig.patchBrInt();
  });
  after(async () => {
    await rig?.stop();
  });

  test("without CAP_NET_ADMIN a sync fails (the check below can tell)", async () => {
    const wrap = await dropTo(
      caps.filter((c) => c !== "net_admin"),
      settings,
    );
    const res = await run({
      argv: [
        "ip",
        "netns",
        "exec",
        rig.hostNs.name,
        ...wrap,
        "node",
        "--import",
        "tsx",
        join(REPO, "src/cli/main.ts"),
        "sync",
        "--once",
        "--config-file",
        rig.confFile,
      ],
      env: { ...rig.ovs.env },
      timeoutMs: 120_000,
    });
    assert.notEqual(res.code, 0, "a sync without CAP_NET_ADMIN must fail");
    assert.match(res.stderr + res.stdout, /Operation not permitted|RTNETLINK answers|EPERM/i);
  });

  test("applies the seed's state: rule, flows, FRR, the spine's route; its process holds no other capability", async () => {
    agent = rig.startAgent([], await dropTo(caps, settings));
    const vm1 = RIG.vm1.ip4.replace(/\./g, "\\.");
    await waitFor(
      async () =>
        new RegExp(`to ${vm1} lookup`).test(await rig.hostNs.exec(["ip", "rule", "show"])) ? true : undefined,
      { what: "the vm1 rule", timeoutMs: 60_000 },
    );
    await waitFor(async () => ((await rig.spineRoutes(4))[`${RIG.vm1.ip4}/32`] ? true : undefined), {
      what: "vm1 at the spine",
      timeoutMs: 60_000,
    }).catch((err: Error) => {
      throw new Error(`${err.message}; agent log:\n${agent.log().slice(-3000)}`);
    });
    await waitFor(
      async () =>
        /cookie=0x3e7/.test(await rig.ovs.ofctl("dump-flows", rig.ovs.target("br-ex"))) ? true : undefined,
      { what: "the agent's br-ex flows (cookie 999)", timeoutMs: 30_000 },
    );
    assert.match(await rig.hostFrr.vtysh("show running-config"), /route-map OVN-BGP-TABLE/);
    const st = await rig.cli(["status", "--json"]);
    assert.equal(st.code, 0, st.stderr);
    assert.equal((JSON.parse(st.stdout) as { ready: { ok: boolean } }).ready.ok, true, st.stdout);

    const pid = agent.child.pid;
    assert.ok(pid);
    const proc = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, "m").exec(proc)?.[1]?.trim() ?? "";
    assert.equal(field("Uid").split(/\s+/)[0], String(UID), "not root");
    const want = caps.reduce((n, c) => n | (1n << BigInt(CAP_BITS[c] ?? -1)), 0n);
    for (const set of ["CapEff", "CapPrm", "CapBnd", "CapAmb"])
      assert.equal(BigInt(`0x${field(set)}`), want, `${set} = exactly the unit's capabilities`);
    assert.equal(field("NoNewPrivs"), "1");
    assert.equal(agent.child.exitCode, null);
    assert.doesNotMatch(agent.log(), /"level":"error"/, "no errors in the agent's log");
  });
});
