/**
 * Load balancers and Octavia amphora VIPs against a real northd-made Southbound and the running
 * agent (issue 13 point 3): an OVN load balancer on router-test (as ovn-octavia-provider makes it,
 * `lb-add` + `lr-lb-add` + `ls-lb-add`) with a VIP on the provider network is exposed from the
 * chassis of the router's cr-lrp and announced to the spine; it follows the cr-lrp away and back,
 * and removing the load balancer leaves nothing. An amphora VIP (an OVN `virtual` port with
 * `virtual-parents`) is exposed from the chassis it is bound to and follows a rebind. A floating IP
 * on a tenant-network VIP (a centralized dnat_and_snat) is exposed from the cr-lrp's chassis.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type AgentRig,
  CHASSIS,
  OTHER_CHASSIS,
  RIG,
  type RunningAgent,
  startAgentRig,
} from "../../support/agent-rig.ts";
import { frrUnavailable } from "../../support/frr.ts";
import { netnsUnavailable } from "../../support/netns.ts";
import { ovsUnavailable } from "../../support/ovs-switch.ts";
import { waitFor } from "../../support/wait.ts";

const skip = netnsUnavailable() ?? ovsUnavailable() ?? frrUnavailable() ?? false;
const VIP = "172.24.4.50";
const AMPHORA_VIP = "172.24.4.60";
/** A load balancer VIP on the tenant network, and the floating IP Octavia puts on it. */
const TENANT_VIP = "10.0.0.70";
const LB_FIP = "172.24.4.55";

describe("load balancer and amphora VIPs (northd-made Southbound, running agent)", { skip }, () => {
  let rig: AgentRig;
  let agent: RunningAgent;
  const rules = () => rig.hostNs.exec(["ip", "rule", "show"]);
  const steers = async (ip: string) =>
    new RegExp(`to ${ip.replace(/\./g, "\\.")} lookup`).test(await rules());
  const atSpine = async (ip: string) => Boolean((await rig.spineRoutes(4))[`${ip}/32`]);
  /** The router's gateway port to another chassis (a failover as OVN's HA makes it). */
  const moveGateway = async (to: string) => {
    await rig.central.sbctl("lsp-unbind", "cr-lrp-gw");
    await rig.central.sbctl("lsp-bind", "cr-lrp-gw", to);
  };
  /** Gone from the host's rules and withdrawn at the spine. */
  const untilGone = async (ip: string, why: string) => {
    await until(`${ip}'s rule gone ${why}`, async () => !(await steers(ip)));
    await until(`${ip} withdrawn at the spine ${why}`, async () => !(await atSpine(ip)));
  };
  const until = (what: string, ok: () => Promise<boolean>) =>
    waitFor(async () => ((await ok()) ? true : undefined), {
      what,
      timeoutMs: 30_000,
      intervalMs: 200,
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nagent log:\n${agent.log().slice(-2500)}`);
    });

  before(async () => {
    rig = await startAgentRig({
      standbyGateway: true,
      config: ["announce_via = table", "bgp_vrf_table_id = 199"],
    });
    await rig.central.sbctl("lsp-bind", "cr-lrp-gw", CHASSIS);
    await rig.patchBrInt();
    agent = rig.startAgent();
    // Ready first, so the load balancer arrives as a change (its event line), not in the first load.
    await waitFor(
      async () => {
        const r = await rig.cli(["status", "--json"]);
        return r.code === 0 && (JSON.parse(r.stdout) as { ready: { ok: boolean } }).ready.ok
          ? true
          : undefined;
      },
      { what: "agent ready", timeoutMs: 60_000, intervalMs: 300 },
    );
  });
  after(async () => {
    await rig?.stop();
  });

  test("a provider VIP of the router's load balancer is exposed from the cr-lrp's chassis", async () => {
    const nb = (...a: string[]) => rig.central.nbctl(...a);
    await nb("lb-add", "lb-web", `${VIP}:80`, `${RIG.vmTenant.ip}:8080`, "tcp");
    await nb("lr-lb-add", "router-test", "lb-web");
    await nb("ls-lb-add", "private-test", "lb-web");
    await until("the VIP's rule", () => steers(VIP));
    await until("the VIP at the spine", () => atSpine(VIP));
    assert.match(agent.log(), /"event":"OVNLBCreateEvent".*"logical_port":"lb-web"/);
    const x = await rig.cli(["explain", VIP, "--json"]);
    assert.equal(x.code, 0, x.stderr);
    const ex = JSON.parse(x.stdout) as {
      exposed: boolean;
      exposures: Array<{ event: string; kind: string }>;
    };
    assert.equal(ex.exposed, true);
    assert.deepEqual(
      ex.exposures.map((e) => `${e.event} ${e.kind}`),
      ["OVNLBCreateEvent lb-vip"],
    );
  });

  test("the VIP follows the cr-lrp away and back", async () => {
    await moveGateway(OTHER_CHASSIS);
    await untilGone(VIP, "with the gateway");
    await moveGateway(CHASSIS);
    await until("the VIP back with the gateway", () => steers(VIP));
  });

  test("removing the load balancer leaves nothing of the VIP", async () => {
    await rig.central.nbctl("lb-del", "lb-web");
    await untilGone(VIP, "with the load balancer");
    const all = await rig.hostNs.exec(["ip", "route", "show", "table", "all"]);
    assert.doesNotMatch(all, new RegExp(VIP.replace(/\./g, "\\.")));
    assert.match(agent.log(), /"event":"OVNLBDeleteEvent"/);
  });

  test("an amphora VIP (virtual port) is exposed where it is bound and follows a rebind", async () => {
    const nb = (...a: string[]) => rig.central.nbctl(...a);
    await nb(
      "lsp-add",
      "public",
      "octavia-vip",
      "--",
      "lsp-set-addresses",
      "octavia-vip",
      `fa:16:3e:00:00:60 ${AMPHORA_VIP}`,
    );
    await nb(
      "lsp-set-type",
      "octavia-vip",
      "virtual",
      "--",
      "lsp-set-options",
      "octavia-vip",
      `virtual-ip=${AMPHORA_VIP}`,
      `virtual-parents=${RIG.vm1.port}`,
    );
    await waitFor(
      async () =>
        (
          await rig.central.sbctl(
            "--bare",
            "--columns=type",
            "find",
            "Port_Binding",
            "logical_port=octavia-vip",
          )
        ).trim() === "virtual" || undefined,
      { what: "the virtual port in the Southbound" },
    );
    await rig.central.sbctl("lsp-bind", "octavia-vip", CHASSIS);
    await until("the amphora VIP's rule", () => steers(AMPHORA_VIP));
    await until("the amphora VIP at the spine", () => atSpine(AMPHORA_VIP));
    await rig.central.sbctl("lsp-unbind", "octavia-vip");
    await rig.central.sbctl("lsp-bind", "octavia-vip", OTHER_CHASSIS);
    await untilGone(AMPHORA_VIP, "with the amphora's failover");
  });

  test("a floating IP on a tenant load balancer VIP is exposed from the cr-lrp's chassis and follows it", async () => {
    // As ovn-octavia-provider leaves it: the VIP on the tenant network, the FIP a centralized
    // dnat_and_snat (no logical_port: no VM port carries it) on the router.
    const nb = (...a: string[]) => rig.central.nbctl(...a);
    await nb("lb-add", "lb-int", `${TENANT_VIP}:80`, `${RIG.vmTenant.ip}:8080`, "tcp");
    await nb("lr-lb-add", "router-test", "lb-int");
    await nb("ls-lb-add", "private-test", "lb-int");
    await nb("lr-nat-add", "router-test", "dnat_and_snat", LB_FIP, TENANT_VIP);
    await until("the FIP's rule", () => steers(LB_FIP));
    await until("the FIP at the spine", () => atSpine(LB_FIP));
    await moveGateway(OTHER_CHASSIS);
    await untilGone(LB_FIP, "with the gateway");
    await moveGateway(CHASSIS);
    await until("the FIP back with the gateway", () => steers(LB_FIP));
    await nb("lr-nat-del", "router-test", "dnat_and_snat", LB_FIP);
    await nb("lb-del", "lb-int");
    await untilGone(LB_FIP, "with its NAT");
  });
});
