/**
 * The long-lived `ip -batch` session against a real kernel: one process serves many batches (no
 * spawn per change), each batch's failing lines are named, and a line that ends the process
 * (`ip neigh` exits on any kernel error) costs only that line: the rest is sent to a new process.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { IpBatchSession } from "../../../src/host/kernel/ip-session.ts";
import { createNetns, type Netns, netnsUnavailable } from "../../support/netns.ts";

describe("IpBatchSession (real kernel)", { skip: netnsUnavailable() ?? false }, () => {
  let ns: Netns;
  let session: IpBatchSession;

  before(async () => {
    ns = await createNetns("ipsess");
    await ns.exec(["ip", "link", "add", "br0", "type", "bridge"]);
    await ns.exec(["ip", "link", "set", "br0", "up"]);
    session = new IpBatchSession({ netns: ns.name });
  });

  after(async () => {
    await session?.close();
    await ns?.remove();
  });

  test("one process serves many batches; each batch resolves when its lines have run", async () => {
    for (let i = 0; i < 50; i++) {
      const r = await session.write([`route add 10.9.${i}.1 dev br0 table 200 proto 179`]);
      assert.equal(r.lineErrors.size, 0);
    }
    assert.equal(session.processesStarted, 1, "no process start per change");
    const routes = await ns.exec(["ip", "route", "show", "table", "200"]);
    assert.equal(routes.trim().split("\n").length, 50, "every line had run when its batch resolved");
  });

  test("a failing line is named by its number; the others are applied", async () => {
    const r = await session.write([
      "route add 10.8.0.1 dev br0 table 200 proto 179",
      "route add 10.8.0.2 dev no-such-dev table 200 proto 179",
      "route add 10.8.0.3 dev br0 table 200 proto 179",
    ]);
    assert.deepEqual([...r.lineErrors.keys()], [2]);
    assert.match(r.lineErrors.get(2) ?? "", /Cannot find device/);
    const routes = await ns.exec(["ip", "route", "show", "table", "200", "root", "10.8.0.0/24"]);
    assert.match(routes, /10\.8\.0\.1 /);
    assert.match(routes, /10\.8\.0\.3 /);
  });

  test("a line that ends the process costs only that line; the rest runs in a new process", async () => {
    const before = session.processesStarted;
    const r = await session.write([
      "neigh del 192.0.2.9 dev br0", // no such neighbour: `ip neigh` exits
      "route add 10.7.0.1 dev br0 table 200 proto 179",
      "neigh replace 192.0.2.10 lladdr 02:00:00:00:00:0a dev br0 nud permanent protocol 179",
    ]);
    assert.deepEqual([...r.lineErrors.keys()], [1]);
    assert.equal(r.unknown.size, 0);
    assert.equal(session.processesStarted, before + 1);
    assert.match(await ns.exec(["ip", "route", "show", "table", "200", "10.7.0.1"]), /10\.7\.0\.1/);
    assert.match(await ns.exec(["ip", "neigh", "show", "192.0.2.10", "dev", "br0"]), /PERMANENT/);
  });

  test("IPv6 rules go through the -6 channel", async () => {
    const r = await session.write(
      ["rule add lookup 200 suppress_prefixlength 0 priority 32000 protocol 179"],
      6,
    );
    assert.equal(r.lineErrors.size, 0);
    assert.match(await ns.exec(["ip", "-6", "rule", "show", "priority", "32000"]), /suppress_prefixlength 0/);
  });
});
