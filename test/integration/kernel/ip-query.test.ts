/**
 * The long-lived `ip -j -batch` reader against a real kernel: answers come back per query from one
 * process, a failed command rejects instead of answering "nothing", and a reader whose process died
 * starts a new one.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { IpQuery } from "../../../src/host/kernel/ip-query.ts";
import { createNetns, type Netns, netnsUnavailable } from "../../support/netns.ts";

describe("IpQuery (real kernel)", { skip: netnsUnavailable() ?? false }, () => {
  let ns: Netns;
  let q: IpQuery;

  before(async () => {
    ns = await createNetns("ipquery");
    await ns.exec(["ip", "link", "add", "br0", "type", "bridge"]);
    q = new IpQuery({ netns: ns.name, family: 6 });
  });

  after(async () => {
    q?.close();
    await ns?.remove();
  });

  test("each query sees the kernel as it is now", async () => {
    assert.deepEqual(await q.query("neigh show proxy"), []);
    await ns.exec(["ip", "-6", "neigh", "add", "proxy", "2001:db8::7", "dev", "br0"]);
    const got = (await q.query("neigh show proxy")) as Array<{ dst: string; dev: string }>;
    assert.deepEqual(
      got.map((e) => `${e.dev}|${e.dst}`),
      ["br0|2001:db8::7"],
    );
    await ns.exec(["ip", "-6", "neigh", "del", "proxy", "2001:db8::7", "dev", "br0"]);
    assert.deepEqual(await q.query("neigh show proxy"), []);
  });

  test("a failed command rejects; the reader goes on", async () => {
    await assert.rejects(q.query("neigh show proxy dev no-such-dev"), /no answer/);
    assert.deepEqual(await q.query("neigh show proxy"), []);
  });

  test("a reader whose process ended starts a new one", async () => {
    q.close();
    assert.deepEqual(await q.query("neigh show proxy"), []);
  });
});
