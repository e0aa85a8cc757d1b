/**
 * Operating the running agent (issue 12 points 2, 5, 7): `ovn-bgp status` over the control socket
 * (and plain `ovs-appctl -t`), `status --set-log-level`, SIGHUP reloading the configuration (an
 * invalid one refused with a log line, the process going on), a second agent refused while one runs,
 * and the metrics an operator alerts on (build info, change→applied, last success, FRR's sessions).
 */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type AgentRig, CHASSIS, RIG, type RunningAgent, startAgentRig } from "../../support/agent-rig.ts";
import { frrUnavailable } from "../../support/frr.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ovsUnavailable } from "../../support/ovs-switch.ts";
import { waitFor } from "../../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
const LISTEN = "127.0.0.1:19798";

interface StatusJson {
  ready: { ok: boolean; problems: string[] };
  chassis: string;
  log_level: string;
  connections: Array<{ db: string; state: string }>;
  targets: Record<string, { last_success?: string }>;
  exposed_ips: Record<string, number>;
  recent_events: Array<{ event: string; logical_port: string; ips: string[] }>;
}

describe("the running agent: status, log level, reload, metrics", { skip }, () => {
  let rig: AgentRig;
  let agent: RunningAgent;
  let conf: string;
  const status = async (): Promise<StatusJson> => {
    const res = await rig.cli(["status", "--json"]);
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as StatusJson;
  };
  const metrics = () =>
    rig.hostNs.exec([
      "node",
      "-e",
      `fetch("http://${LISTEN}/metrics").then(r=>r.text()).then(t=>process.stdout.write(t))`,
    ]);

  before(async () => {
    rig = await startAgentRig({ config: ["announce_via = table", "bgp_vrf_table_id = 199"] });
    await rig.central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    conf = rig.extraConfig("control.conf", ["[DEFAULT]", `metrics_listen = ${LISTEN}`]);
    agent = rig.startAgent([conf]);
    await waitFor(
      async () => {
        const r = await rig.cli(["status", "--json"]);
        return r.code === 0 && (JSON.parse(r.stdout) as StatusJson).ready.ok ? true : undefined;
      },
      { what: "agent ready (status --json)", timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  after(async () => {
    await rig?.stop();
  });

  test("status names the chassis, its connections, each target's last success and what it exposes", async () => {
    const s = await status();
    assert.equal(s.chassis, CHASSIS);
    assert.deepEqual(
      s.connections.map((c) => [c.db, c.state]),
      [
        ["OVN_Southbound", "active"],
        ["Open_vSwitch", "active"],
      ],
    );
    for (const t of ["kernel", "flows", "frr"]) assert.ok(s.targets[t]?.last_success, `${t} succeeded`);
    assert.ok((s.exposed_ips["provider-vm"] ?? 0) >= 1, JSON.stringify(s.exposed_ips));
    const text = await rig.cli(["status"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`chassis ${CHASSIS}: ready`));
    assert.match(text.stdout, /OVN_Southbound\s+active/);
  });

  test("ovs-appctl speaks to the same socket", async () => {
    const sock = join(rig.dir, "agent.ctl");
    const out = await rig.hostNs.exec(["ovs-appctl", "-t", sock, "status"]);
    assert.match(out, /ready/);
    assert.match(await rig.hostNs.exec(["ovs-appctl", "-t", sock, "list-commands"]), /set-log-level/);
  });

  test("a change shows as a recent event, in the change→applied histogram and the last-success time", async () => {
    await rig.central.sbctl("lsp-unbind", RIG.vm1.port);
    const s = await waitFor(
      async () => {
        const st = await status();
        return st.recent_events.some(
          (e) => e.event === "PortBindingChassisDeletedEvent" && e.logical_port === RIG.vm1.port,
        )
          ? st
          : undefined;
      },
      { what: "unbind in recent events" },
    );
    assert.equal(s.exposed_ips["provider-vm"] ?? 0, 0);
    const m = await metrics();
    const count = Number(/ovn_bgp_sb_change_applied_seconds_count\{target="kernel"\} (\d+)/.exec(m)?.[1]);
    assert.ok(count >= 1, "kernel change→applied observed");
    assert.match(m, /ovn_bgp_build_info\{version="[^"]+",node_version="[^"]+"\} 1/);
    assert.match(m, /ovn_bgp_last_successful_sync_timestamp_seconds\{target="frr"\} \d/);
    assert.match(m, /ovn_bgp_bgp_peer_up\{vrf="default",afi="ipv4Unicast",peer="10.255.1.2"\} 1/);
    await rig.central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    await waitFor(async () => ((await status()).exposed_ips["provider-vm"] ?? 0) >= 1 || undefined, {
      what: "vm1 exposed again",
    });
  });

  test("status --set-log-level debug changes the running agent's level", async () => {
    const res = await rig.cli(["status", "--set-log-level", "debug"]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /log level debug \(was info\)/);
    assert.equal((await status()).log_level, "debug");
    const before = agent.log().length;
    await rig.central.sbctl("lsp-unbind", RIG.vm1.port);
    await waitFor(() => (/"level":"debug"/.test(agent.log().slice(before)) ? true : undefined), {
      what: "debug lines after the change",
    });
    await rig.central.sbctl("lsp-bind", RIG.vm1.port, CHASSIS);
    const bad = await rig.cli(["status", "--set-log-level", "loud"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown log level 'loud'/);
    await rig.cli(["status", "--set-log-level", "info"]);
  });

  test("SIGHUP: an invalid configuration is refused and the agent goes on; a valid change is applied", async () => {
    const original = readFileSync(conf, "utf8");
    appendFileSync(conf, "bgp_AS = not-a-number\n");
    const at = agent.log().length;
    agent.child.kill("SIGHUP");
    await waitFor(() => (/reload refused/.test(agent.log().slice(at)) ? true : undefined), {
      what: "reload refused line",
    });
    assert.match(agent.log().slice(at), /bgp_AS/);
    assert.equal(agent.child.exitCode, null, "still running");
    assert.equal((await status()).ready.ok, true);

    writeFileSync(conf, `${original}drift_poll_ms = 700\n`);
    const at2 = agent.log().length;
    agent.child.kill("SIGHUP");
    await waitFor(() => (/reload: restarting the agent/.test(agent.log().slice(at2)) ? true : undefined), {
      what: "reload applied",
    });
    assert.match(agent.log().slice(at2), /drift_poll_ms/);
    await waitFor(async () => ((await status()).ready.ok ? true : undefined), { what: "ready after reload" });
    assert.equal(agent.child.exitCode, null);
    const rules = await rig.hostNs.exec(["ip", "rule", "show"]);
    assert.match(rules, new RegExp(`to ${RIG.vm1.ip4.replace(/\./g, "\\.")} lookup`), "vm1 still steered");
    writeFileSync(conf, original);
  });

  test("a second agent on the same control socket is refused", async () => {
    const res = await rig.cli(["agent"], [conf]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /another ovn-bgp agent is running/);
    assert.equal((await status()).ready.ok, true, "the first one is untouched");
  });
});
