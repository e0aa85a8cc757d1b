/** OVN central harness: northd turns NB into SB, fake chassis can take port bindings, clustered SB works. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addChassis, type OvnCentral, removeChassis, startOvnCentral } from "../../support/ovn-central.ts";
import { waitFor } from "../../support/wait.ts";

/** `ovn-sbctl get` quotes a string only when it must; compare the bare value. */
const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, "$1");

describe("OVN central", () => {
  let central: OvnCentral;
  before(async () => {
    central = await startOvnCentral();
  });
  after(async () => {
    await central?.stop();
  });

  it("northd turns a logical switch port into a Port_Binding", async () => {
    await central.nbctl("ls-add", "sw0", "--", "lsp-add", "sw0", "p1");
    const found = await waitFor(
      async () =>
        (
          await central.sbctl("--bare", "--columns=logical_port", "find", "Port_Binding", "logical_port=p1")
        ).trim(),
      { what: "Port_Binding p1" },
    );
    assert.equal(found, "p1");
    await central.nbctl("lsp-add", "sw0", "p2");
    await central.waitForNorthd();
    assert.equal(
      (
        await central.sbctl("--bare", "--columns=logical_port", "find", "Port_Binding", "logical_port=p2")
      ).trim(),
      "p2",
    );
  });

  it("addChassis makes a chassis that ports can be bound to", async () => {
    const uuid = await addChassis(central.sbRemote, {
      name: "hv1",
      hostname: "hv1.example",
      encapIp: "127.0.0.1",
      otherConfig: { "ovn-bridge-mappings": "public:br-ex,phys:br-phys" },
    });
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.equal(unquote(await central.sbctl("get", "Chassis", "hv1", "hostname")), "hv1.example");
    assert.equal(
      unquote(await central.sbctl("get", "Chassis", "hv1", "other_config:ovn-bridge-mappings")),
      "public:br-ex,phys:br-phys",
    );
    assert.equal((await central.sbctl("get", "Chassis_Private", "hv1", "chassis")).trim(), uuid);
    await central.sbctl("lsp-bind", "p1", "hv1");
    assert.equal(
      (await central.sbctl("--bare", "--columns=chassis", "find", "Port_Binding", "logical_port=p1")).trim(),
      uuid,
    );
    await central.sbctl("lsp-unbind", "p1");
    await removeChassis(central.sbRemote, "hv1");
    assert.equal((await central.sbctl("--bare", "--columns=name", "list", "Chassis_Private")).trim(), "");
  });
});

describe("OVN central with a clustered Southbound DB", () => {
  let central: OvnCentral;
  before(async () => {
    central = await startOvnCentral({ clusteredSb: true });
  });
  after(async () => {
    await central?.stop();
  });

  it("northd writes to the cluster and clients reach it through all remotes", async () => {
    assert.equal(central.sbRemote.split(",").length, 3);
    await central.nbctl("ls-add", "sw1", "--", "lsp-add", "sw1", "q1");
    await central.waitForNorthd();
    const pb = await central.sbctl(
      "--bare",
      "--columns=logical_port",
      "find",
      "Port_Binding",
      "logical_port=q1",
    );
    assert.equal(pb.trim(), "q1");
    assert.match(await central.sbctl("--bare", "--columns=logical_port", "list", "Port_Binding"), /q1/);
  });
});
