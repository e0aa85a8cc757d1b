/**
 * How an agent finds itself and its data: identity from the local Open_vSwitch DB, then a
 * Southbound monitor narrowed to what this chassis needs (topology ports, ports bound here and
 * the tenant datapaths it asks for), following binds and unbinds live.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../../src/config/load.ts";
import type { Row } from "../../../src/ovsdb/wire/datum.ts";
import { openChassisSources, SourceError } from "../../../src/reconcile/chassis-sources.ts";
import { addChassis } from "../../support/ovn-central.ts";
import { sbctl, startOvsdbServer, vsctl } from "../../support/ovsdb-server.ts";
import { waitFor } from "../../support/wait.ts";

const skip = process.getuid?.() === 0 ? false : "needs root to run ovsdb-server like the agent's hosts do";

const names = (rows: Iterable<Row>) => [...rows].map((r) => String(r.logical_port)).sort();

describe("chassis sources", { skip }, () => {
  let sb: Awaited<ReturnType<typeof startOvsdbServer>>;
  let ovs: Awaited<ReturnType<typeof startOvsdbServer>>;
  let dp: string;
  let dpTenant: string;
  before(async () => {
    [sb, ovs] = await Promise.all([startOvsdbServer({ schema: "sb" }), startOvsdbServer({ schema: "ovs" })]);
    await vsctl(ovs.unixRemote, "init");
    await vsctl(
      ovs.unixRemote,
      "set",
      "Open_vSwitch",
      ".",
      "external_ids:system-id=rack-1-host-2",
      `external_ids:ovn-remote=${sb.unixRemote}`,
      "external_ids:ovn-bridge-mappings=public:br-ex",
    );
    await addChassis(sb.unixRemote, { name: "rack-1-host-2", encapIp: "192.0.2.12" });
    await addChassis(sb.unixRemote, { name: "rack-2-host-1", encapIp: "192.0.2.21" });
    dp = (await sbctl(sb.unixRemote, "create", "Datapath_Binding", "tunnel_key=1")).trim();
    dpTenant = (await sbctl(sb.unixRemote, "create", "Datapath_Binding", "tunnel_key=2")).trim();
    const pb = (name: string, type: string, key: number, datapath = dp) =>
      sbctl(
        sb.unixRemote,
        "create",
        "Port_Binding",
        `logical_port=${name}`,
        `type="${type}"`,
        `datapath=${datapath}`,
        `tunnel_key=${key}`,
      );
    await pb("provnet-public", "localnet", 1);
    await pb("vm1-port", "", 2);
    await pb("vm-elsewhere", "", 3);
    await pb("vm-tenant", "", 4, dpTenant);
    await sbctl(sb.unixRemote, "lsp-bind", "vm1-port", "rack-1-host-2");
    await sbctl(sb.unixRemote, "lsp-bind", "vm-elsewhere", "rack-2-host-1");
    await sbctl(sb.unixRemote, "lsp-bind", "vm-tenant", "rack-2-host-1");
  });
  after(async () => {
    await Promise.all([sb?.stop(), ovs?.stop()]);
  });

  test("identity from OVS; Port_Binding narrowed to this chassis; tenant datapaths added on request", async () => {
    const { config } = loadConfig({ configFiles: [], overrides: { ovsdb_connection: ovs.unixRemote } });
    const src = await openChassisSources(config, { syncTimeoutMs: 10_000 });
    try {
      assert.equal(src.chassisName, "rack-1-host-2");
      assert.equal(src.sbRemote, sb.unixRemote);
      const pbs = () => names(src.sb.replica.table("Port_Binding").values());
      await waitFor(() => !pbs().includes("vm-elsewhere") && pbs().includes("vm1-port"), {
        what: "narrowed condition",
      });
      assert.deepEqual(pbs(), ["provnet-public", "vm1-port"]);

      await src.setInterestingDatapaths([dpTenant]);
      await waitFor(() => pbs().includes("vm-tenant"), { what: "tenant datapath ports" });

      // A port bound here later arrives; unbound, it leaves.
      await sbctl(sb.unixRemote, "lsp-bind", "vm-elsewhere", "rack-1-host-2").catch(async () => {
        await sbctl(sb.unixRemote, "lsp-unbind", "vm-elsewhere");
        await sbctl(sb.unixRemote, "lsp-bind", "vm-elsewhere", "rack-1-host-2");
      });
      await waitFor(() => pbs().includes("vm-elsewhere"), { what: "port bound here appears" });
      await sbctl(sb.unixRemote, "lsp-unbind", "vm-elsewhere");
      await waitFor(() => !pbs().includes("vm-elsewhere"), { what: "unbound port leaves" });
    } finally {
      await src.stop();
    }
  });

  test("a missing identity is one clear error naming where it was looked for", async () => {
    const bare = await startOvsdbServer({ schema: "ovs" });
    try {
      await vsctl(bare.unixRemote, "init");
      const { config } = loadConfig({ configFiles: [], overrides: { ovsdb_connection: bare.unixRemote } });
      await assert.rejects(
        openChassisSources(config, { syncTimeoutMs: 10_000 }),
        (e: unknown) =>
          e instanceof SourceError && /system-id/.test(e.message) && e.message.includes(bare.unixRemote),
      );
    } finally {
      await bare.stop();
    }
  });
});
