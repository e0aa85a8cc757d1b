/** The watcher sees a daemon's vty socket replaced (what a restart does) without spawning anything. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FrrWatcher } from "../../../src/host/frr/frr-watcher.ts";

const dir = mkdtempSync(join(tmpdir(), "obt-frrwatch-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("FrrWatcher", () => {
  it("reports nothing at baseline, then a replaced socket as a restart and a missing one as down", async () => {
    const restarts: string[][] = [];
    const downs: string[][] = [];
    const w = new FrrWatcher({
      socketDir: dir,
      onRestart: (d) => restarts.push([...d]),
      onDown: (d) => downs.push([...d]),
    });
    writeFileSync(join(dir, "zebra.vty"), "");
    writeFileSync(join(dir, "bgpd.vty"), "");
    await w.poll();
    await w.poll();
    assert.deepEqual(restarts, []);

    // bgpd restarts: its socket is unlinked and created anew (new inode).
    const keep = join(dir, "keep");
    writeFileSync(keep, ""); // holds the old inode number so it cannot be reused at once
    rmSync(join(dir, "bgpd.vty"));
    writeFileSync(join(dir, "bgpd.vty"), "");
    await w.poll();
    assert.deepEqual(restarts, [["bgpd"]]);

    rmSync(join(dir, "zebra.vty"));
    await w.poll();
    assert.deepEqual(downs, [["zebra"]]);
    assert.equal(restarts.length, 1);
    writeFileSync(join(dir, "zebra.vty"), "");
    await w.poll();
    assert.deepEqual(restarts, [["bgpd"], ["zebra"]]);
  });
});
