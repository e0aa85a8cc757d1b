/**
 * The NDP proxy drift watch: an entry the agent put in place that the kernel no longer lists is
 * drift; a look that overlapped a kernel write proves nothing; no entries wanted, no look.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NdpProxyWatcher } from "../../../src/host/kernel/ndp-proxy-watcher.ts";

describe("NdpProxyWatcher", () => {
  it("reports the entries the agent put in place that are gone, judged against a quiet kernel", async () => {
    let listed: unknown[] = [
      { dst: "2001:db8::", dev: "br-ex", proxy: null, protocol: 179 },
      { dst: "2001:db8::99", dev: "br-ex", proxy: null },
    ];
    let generation = 0;
    let queries = 0;
    let duringQuery = () => {};
    const seen: string[][] = [];
    let expected = ["br-ex|2001:db8::", "br-ex|2001:db8:1::"];
    const w = new NdpProxyWatcher({
      query: {
        query: async (cmd) => {
          assert.equal(cmd, "neigh show proxy");
          queries++;
          duringQuery();
          return listed;
        },
        close: () => {},
      },
      expected: () => expected,
      generation: () => generation,
      onDrift: (m) => seen.push([...m]),
    });
    assert.deepEqual(await w.check(), ["br-ex|2001:db8:1::"]);
    assert.deepEqual(seen, [["br-ex|2001:db8:1::"]]);

    // A kernel pass ran while the list was read: the look is not trusted.
    listed = [];
    duringQuery = () => {
      generation++;
    };
    assert.deepEqual(await w.check(), []);
    duringQuery = () => {};
    assert.deepEqual(await w.check(), ["br-ex|2001:db8::", "br-ex|2001:db8:1::"]);

    // Nothing in place: no query at all.
    expected = [];
    const before = queries;
    assert.deepEqual(await w.check(), []);
    assert.equal(queries, before);
  });
});
