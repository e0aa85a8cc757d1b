/**
 * The Southbound the agent replicates, against the schemas of both platforms it is tested on
 * (docs/PLATFORMS.md): OVN 23.03.1 (Debian 12) and 25.03.0 (Debian 13), copied into
 * test/fixtures/ovn from each platform's package. Every table the agent monitors exists in both, the
 * columns it asks for exist except the ones it knows are newer, and the rows it reads keep their keys.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseSchema, restrictSchema } from "../../../src/ovsdb/wire/schema.ts";
import { SB_DATABASE, SB_TABLES } from "../../../src/sb/monitor-spec.ts";

const schema = (ovn: string) =>
  parseSchema(
    JSON.parse(readFileSync(join(import.meta.dirname, `../../fixtures/ovn/ovn-sb-${ovn}.ovsschema`), "utf8")),
  );

/** Columns a server of that version lacks (the client drops them from its request with a warning). */
const EXPECTED_MISSING: Record<string, string[]> = {
  // Load_Balancer.ls_/lr_datapath_group came with OVN 23.09.
  "23.03.1": ["Load_Balancer.ls_datapath_group", "Load_Balancer.lr_datapath_group"],
  "25.03.0": [],
};

describe("the Southbound schema on both platforms", () => {
  for (const [ovn, missingWanted] of Object.entries(EXPECTED_MISSING))
    it(`OVN ${ovn}: every monitored table, the columns it has, the keys the planner uses`, () => {
      const s = schema(ovn);
      assert.equal(s.name, SB_DATABASE);
      const missing: string[] = [];
      const present: Record<string, string[]> = {};
      for (const [table, m] of Object.entries(SB_TABLES)) {
        const t = s.tables.get(table);
        assert.ok(t, `OVN ${ovn} has no ${table}`);
        present[table] = (m.columns ?? []).filter((c) => {
          if (t.columns.has(c)) return true;
          missing.push(`${table}.${c}`);
          return false;
        });
      }
      assert.deepEqual(missing, missingWanted);
      const restricted = restrictSchema(s, present);
      assert.equal(restricted.tables.size, Object.keys(SB_TABLES).length);
      const pb = s.tables.get("Port_Binding");
      assert.deepEqual(pb?.indexes, [["datapath", "tunnel_key"], ["logical_port"]]);
      // A virtual port's parent and a gateway's chassis stay single optional references.
      for (const c of ["virtual_parent", "chassis"]) {
        const col = pb?.columns.get(c);
        assert.ok(col, `Port_Binding.${c}`);
        assert.equal(col.type.max, 1);
      }
    });

  it("25.03 adds tables the agent leaves alone (OVN's own dynamic routing among them)", () => {
    const older = new Set(schema("23.03.1").tables.keys());
    const added = [...schema("25.03.0").tables.keys()].filter((t) => !older.has(t)).sort();
    assert.ok(added.includes("Advertised_Route"), added.join(", "));
    for (const t of added) assert.equal(SB_TABLES[t], undefined, `${t} is monitored but new in 25.03`);
  });
});
