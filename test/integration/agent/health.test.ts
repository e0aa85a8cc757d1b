/**
 * Health that means something (issue 12 point 3), against the running agent on real parts: `/livez`
 * says the process and its loop turn, `/readyz` (and its alias `/healthz`) says both databases are
 * connected and every target synced, naming what is wrong. FRR taken away makes the agent not
 * ready, never not alive; so does the Southbound; both come back to ready.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type AgentRig, CHASSIS, type RunningAgent, startAgentRig } from "../../support/agent-rig.ts";
import { frrUnavailable } from "../../support/frr.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ovsUnavailable } from "../../support/ovs-switch.ts";
import { waitFor } from "../../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
/** Inside the chassis namespace, which is the test's own: the port cannot clash. */
const LISTEN = "127.0.0.1:19797";

interface Answer {
  readonly status: number;
  readonly body: { ok: boolean; problems?: string[]; [k: string]: unknown };
}

describe("agent health endpoints: /livez, /readyz, /healthz", { skip }, () => {
  let rig: AgentRig;
  let agent: RunningAgent;

  /** GET from inside the chassis namespace (the agent listens on that namespace's loopback). */
  const get = async (path: string): Promise<Answer> => {
    const script = `fetch("http://${LISTEN}${path}").then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json() }))).catch((e) => { console.log(JSON.stringify({ status: 0, body: { ok: false, problems: [String(e)] } })); })`;
    return JSON.parse(await rig.hostNs.exec(["node", "-e", script])) as Answer;
  };
  const until = (path: string, ok: (a: Answer) => boolean, what: string) =>
    waitFor(
      async () => {
        const a = await get(path);
        return ok(a) ? a : undefined;
      },
      { what: `${what}; agent log:\n${agent.log().slice(-2000)}`, timeoutMs: 30_000, intervalMs: 200 },
    );

  before(async () => {
    rig = await startAgentRig({ config: ["announce_via = table", "bgp_vrf_table_id = 199"] });
    await rig.central.sbctl("lsp-bind", "vm1-port", CHASSIS);
    const conf = rig.extraConfig("health.conf", ["[DEFAULT]", `metrics_listen = ${LISTEN}`]);
    agent = rig.startAgent([conf]);
  });

  after(async () => {
    await rig?.stop();
  });

  test("ready once both databases are connected and every target has synced", async () => {
    const ready = await until("/readyz", (a) => a.status === 200, "ready");
    assert.equal(ready.body.ok, true);
    assert.deepEqual(ready.body.problems, []);
    assert.equal(ready.body.chassis, CHASSIS);
    assert.deepEqual(Object.keys(ready.body.targets as object).sort(), ["flows", "frr", "kernel"]);
    assert.equal((await get("/healthz")).status, 200, "/healthz is /readyz");
    const live = await get("/livez");
    assert.equal(live.status, 200);
    assert.equal(live.body.ok, true);
  });

  test("FRR down: not ready, naming FRR; still alive; FRR back: ready again", async () => {
    await rig.hostFrr.down();
    const notReady = await until("/readyz", (a) => a.status === 503, "not ready without FRR");
    assert.ok(
      notReady.body.problems?.some((p) => /^frr: .*FRR not reachable/.test(p)),
      JSON.stringify(notReady.body),
    );
    assert.equal((await get("/healthz")).status, 503);
    assert.equal((await get("/livez")).status, 200, "a dead FRR is not a dead agent");
    await rig.hostFrr.up();
    await until("/readyz", (a) => a.status === 200, "ready again with FRR back");
  });

  test("Southbound down: not ready, naming it; still alive; back: ready again", async () => {
    const sb = rig.central.sb;
    assert.ok(sb, "standalone Southbound");
    await sb.kill("SIGKILL");
    const notReady = await until("/readyz", (a) => a.status === 503, "not ready without the Southbound");
    assert.ok(
      notReady.body.problems?.some((p) => /^OVN_Southbound: not connected/.test(p)),
      JSON.stringify(notReady.body),
    );
    assert.equal((await get("/livez")).status, 200);
    await sb.restart();
    await until("/readyz", (a) => a.status === 200, "ready again with the Southbound back");
  });
});
