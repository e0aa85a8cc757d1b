/**
 * Output captured from real FRR releases by test/integration/frr/frr-applier.test.ts
 * (`CAPTURE_FRR_FIXTURES=1`, on each platform: docs/PLATFORMS.md), one directory per version.
 * The parsers' unit tests run on every version listed here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Debian 12's FRR and Debian 13's. */
export const FRR_VERSIONS = ["8.4.4", "10.3"] as const;
export type FrrVersion = (typeof FRR_VERSIONS)[number];

export const frrFixtureText = (version: FrrVersion, file: string): string =>
  readFileSync(join(import.meta.dirname, "../../fixtures/frr", version, file), "utf8");

export const frrFixtureJson = (version: FrrVersion, file: string): unknown =>
  JSON.parse(frrFixtureText(version, file));
