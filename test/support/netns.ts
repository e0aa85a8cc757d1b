/**
 * Throwaway network namespaces for tests. Every name carries a per-run prefix (`RUN_PREFIX`), and
 * everything a test creates is removed on exit, on failure and on SIGINT/SIGTERM. Tests that need
 * root or iproute2 skip cleanly with a reason (`skipUnlessNetns`).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { run, runOk } from "../../src/host/exec.ts";
import { type Platform, platformFromEnv, usePlatformTools } from "../../src/lab/platform.ts";

/**
 * The OVS/OVN/FRR stack under test (`OVN_BGP_PLATFORM`, docs/PLATFORMS.md). Every test that starts
 * daemons imports this module, so its tools are first on the PATH before any is run.
 */
export const PLATFORM: Platform = platformFromEnv();
if (PLATFORM !== "bookworm") usePlatformTools(PLATFORM);

/** Unique per test process: "obt" + 5 hex chars, short enough to prefix 15-char interface names. */
export const RUN_PREFIX = `obt${randomBytes(3).toString("hex").slice(0, 5)}`;

const cleanups: Array<() => void> = [];
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const runAll = () => {
    while (cleanups.length) {
      try {
        cleanups.pop()?.();
      } catch {
        /* best effort */
      }
    }
  };
  process.on("exit", runAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      runAll();
      process.exit(130);
    });
  }
}

/** Register a synchronous clean-up that runs at process exit (also on failure). Returns an unregister fn. */
export function atExit(fn: () => void): () => void {
  hookExit();
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

let counter = 0;
/** A fresh unique name with the run prefix, e.g. "obtab12c-ns3". */
export function uniqueName(tag: string): string {
  counter += 1;
  return `${RUN_PREFIX}-${tag}${counter}`;
}

/** Why namespace tests cannot run here, or undefined if they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (network namespaces)";
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
  } catch {
    return "iproute2 not installed";
  }
  return undefined;
}

export interface Netns {
  readonly name: string;
  /** Run argv inside the namespace; throws on non-zero exit. */
  exec(argv: readonly string[], stdin?: string): Promise<string>;
  remove(): Promise<void>;
}

/** Create a namespace with lo up; it is deleted at `remove()` or at process exit. */
export async function createNetns(tag = "ns"): Promise<Netns> {
  const name = uniqueName(tag);
  await runOk({ argv: ["ip", "netns", "add", name] });
  const unregister = atExit(() => {
    try {
      execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
    } catch {
      /* already gone */
    }
  });
  await runOk({ argv: ["ip", "link", "set", "lo", "up"], netns: name });
  return {
    name,
    exec: async (argv, stdin) =>
      (await runOk({ argv, netns: name, ...(stdin !== undefined ? { stdin } : {}) })).stdout,
    remove: async () => {
      unregister();
      await run({ argv: ["ip", "netns", "del", name] });
    },
  };
}
