/** The host's own networks: everything but the devices the agent manages and link-scoped addresses. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Exec } from "../../../src/host/exec.ts";
import { readHostNetworks } from "../../../src/reconcile/host-networks.ts";
import { testConfig } from "../../fixtures/test-config.ts";

const addr = (local: string, prefixlen: number, scope = "global") => ({
  family: local.includes(":") ? "inet6" : "inet",
  local,
  prefixlen,
  scope,
});

describe("readHostNetworks", () => {
  it("keeps the underlay and loopback, leaves out bridges, their VLANs, bgp_nic, the VRF, the agent's devices and link scope", async () => {
    const links = [
      { ifname: "lo", addr_info: [addr("127.0.0.1", 8, "host"), addr("::1", 128, "host")] },
      { ifname: "eth0", addr_info: [addr("10.255.1.1", 30), addr("fe80::1", 64, "link")] },
      { ifname: "br-ex", addr_info: [addr("169.254.1.1", 32), addr("172.24.4.1", 24)] },
      { ifname: "br-ex.100", addr_info: [addr("169.254.1.1", 32)] },
      { ifname: "bgp-nic", master: "bgp-vrf", addr_info: [addr("172.24.4.92", 32)] },
      { ifname: "bgp-vrf", addr_info: [] },
      { ifname: "other", master: "bgp-vrf", addr_info: [addr("192.0.2.9", 32)] },
      // The agent's devices under their old names (bgp_nic/bgp_vrf just renamed): still ours.
      { ifname: "old-nic", master: "old-vrf", ifalias: "ovn-bgp", addr_info: [addr("172.24.4.93", 32)] },
      { ifname: "old-vrf", ifalias: "ovn-bgp", addr_info: [] },
      { ifname: "adopted", master: "old-vrf", addr_info: [addr("172.24.4.94", 32)] },
    ];
    const exec: Exec = async (req) => {
      assert.deepEqual(req.argv, ["ip", "-j", "-d", "address", "show"]);
      return { code: 0, stdout: JSON.stringify(links), stderr: "" };
    };
    const nets = await readHostNetworks(
      testConfig(),
      { bridgeMappings: [{ network: "public", bridge: "br-ex" }] },
      { exec },
    );
    assert.deepEqual(nets, [
      { cidr: "127.0.0.1/8", dev: "lo" },
      { cidr: "::1/128", dev: "lo" },
      { cidr: "10.255.1.1/30", dev: "eth0" },
    ]);
  });

  it("a failing ip is an error (the agent then warns and checks nothing against the host)", async () => {
    const exec: Exec = async () => ({ code: 1, stdout: "", stderr: "boom" });
    await assert.rejects(readHostNetworks(testConfig(), { bridgeMappings: [] }, { exec }), /boom/);
  });
});
