/** The fault drills (test/support/drills.ts) in the table layout, on this host's kernel. */
import { defineDrills } from "../../support/drills.ts";

defineDrills({ layout: "table" });
