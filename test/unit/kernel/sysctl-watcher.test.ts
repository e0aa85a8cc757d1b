/** The sysctl drift watch: a value that differs from the plan is drift; a missing one is not. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SysctlIo } from "../../../src/host/kernel/sysctl.ts";
import { SysctlWatcher } from "../../../src/host/kernel/sysctl-watcher.ts";

describe("SysctlWatcher", () => {
  it("reports exactly the paths whose value differs; missing paths are left to the kernel pass", async () => {
    const values = new Map([
      ["net/ipv4/conf/br-ex/proxy_arp", "1"],
      ["net/ipv6/conf/br-ex/proxy_ndp", "0"],
    ]);
    const io: SysctlIo = {
      read: async (paths) =>
        new Map(paths.flatMap((p) => (values.has(p) ? [[p, values.get(p) as string]] : []))),
      write: async () => ({ errors: new Map(), processes: 0 }),
    };
    const seen: string[][] = [];
    const w = new SysctlWatcher({
      io,
      wanted: () => [
        { path: "net/ipv4/conf/br-ex/proxy_arp", value: "1" },
        { path: "net/ipv6/conf/br-ex/proxy_ndp", value: "1" },
        { path: "net/ipv4/conf/br-ex.100/proxy_arp", value: "1" },
      ],
      onDrift: (p) => seen.push([...p]),
    });
    assert.deepEqual(await w.check(), ["net/ipv6/conf/br-ex/proxy_ndp"]);
    values.set("net/ipv6/conf/br-ex/proxy_ndp", "1");
    assert.deepEqual(await w.check(), []);
    assert.deepEqual(seen, [["net/ipv6/conf/br-ex/proxy_ndp"]]);
  });
});
