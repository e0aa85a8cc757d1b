import assert from "node:assert/strict";
import { delimiter } from "node:path";
import { describe, it } from "node:test";
import { ovnHasSnatFix } from "../../../src/lab/check.ts";
import {
  agentPlatformConfig,
  frrDaemonArgv,
  hostPath,
  PLATFORM_DIR,
  platformBinDir,
  platformFile,
  platformFromEnv,
  toolPrefix,
} from "../../../src/lab/platform.ts";
import { ovsCarriesLoadBalancers } from "../../../src/lab/workloads.ts";

describe("platforms", () => {
  it("OVN_BGP_PLATFORM picks the stack; unset is the host's, a typo is an error", () => {
    assert.equal(platformFromEnv({}), "bookworm");
    assert.equal(platformFromEnv({ OVN_BGP_PLATFORM: " trixie " }), "trixie");
    assert.throws(() => platformFromEnv({ OVN_BGP_PLATFORM: "trixy" }), /trixy: unknown platform/);
  });

  it("the host's packages run as they are; another platform's through platform-exec", () => {
    assert.deepEqual(toolPrefix("bookworm"), []);
    assert.deepEqual(frrDaemonArgv("bookworm", "bgpd"), ["/usr/lib/frr/bgpd"]);
    assert.deepEqual(agentPlatformConfig("bookworm"), []);
    assert.equal(
      platformFile("bookworm", "/usr/share/ovn/ovn-sb.ovsschema"),
      "/usr/share/ovn/ovn-sb.ovsschema",
    );

    const exec = `${PLATFORM_DIR}/platform-exec`;
    assert.deepEqual(toolPrefix("trixie"), [exec, "trixie"]);
    assert.deepEqual(frrDaemonArgv("trixie", "mgmtd"), [exec, "trixie", "/usr/lib/frr/mgmtd"]);
    assert.equal(platformFile("trixie", "/usr/lib/frr/zebra"), `${PLATFORM_DIR}/trixie/usr/lib/frr/zebra`);
    // The agent is pointed at the platform by its own options, as an operator would do it.
    assert.deepEqual(agentPlatformConfig("trixie"), [
      `frr_command_prefix = ${exec} trixie`,
      `ovs_command_prefix = ${exec} trixie`,
    ]);
  });

  it("the agent's PATH loses the harness's wrapper directory and keeps the rest", () => {
    const bin = platformBinDir("trixie") as string;
    assert.equal(
      hostPath([bin, "/usr/sbin", "/usr/bin"].join(delimiter)),
      ["/usr/sbin", "/usr/bin"].join(delimiter),
    );
  });

  it("the SNAT limit of lab check names OVN releases without the fix, and only those", () => {
    for (const v of ["23.03.1", "23.09.4", "24.03.1", undefined])
      assert.equal(ovnHasSnatFix(v), false, String(v));
    for (const v of ["24.03.2", "24.03.5", "24.09.0", "25.03.0", "26.03.0"])
      assert.equal(ovnHasSnatFix(v), true, v);
  });

  it("the lab has its load balancer only with an OVS whose userspace conntrack carries it", () => {
    for (const v of ["3.1.0", "3.3.1", undefined]) assert.equal(ovsCarriesLoadBalancers(v), false, String(v));
    for (const v of ["3.5.0", "3.6.1", "4.0.0"]) assert.equal(ovsCarriesLoadBalancers(v), true, v);
  });
});
