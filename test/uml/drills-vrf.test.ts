/** The fault drills (test/support/drills.ts) in the seed's vrf layout, inside user-mode Linux. */
import { defineDrills } from "../support/drills.ts";

defineDrills({ layout: "vrf", slowdown: 4 });
