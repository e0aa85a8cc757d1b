/**
 * Which OVS / OVN / FRR the lab and the test harness run (docs/PLATFORMS.md):
 *
 * - `bookworm`: the host's own packages (Debian 12: OVN 23.03, OVS 3.1, FRR 8.4).
 * - `trixie`: Debian 13's (OVN 25.03, OVS 3.5, FRR 10.3), from a root that
 *   `scripts/setup-platform.sh trixie` builds once. Every daemon and tool runs from that root through
 *   `platform-exec` (a chroot in a private mount namespace that sees the host's /tmp, /run, /dev,
 *   /proc, /sys and /etc/frr), so sockets, pidfiles and PIDs are the same as on the host.
 *
 * The harness and the lab reach the platform's tools by name: `usePlatformTools` puts the
 * platform's wrapper directory first on this process's PATH (children inherit it). The agent does
 * not rely on that: it is given `frr_command_prefix` / `ovs_command_prefix`, as an operator would.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export const PLATFORMS = ["bookworm", "trixie"] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Where setup-platform.sh builds roots (`OVN_BGP_PLATFORM_DIR` overrides). */
export const PLATFORM_DIR = process.env.OVN_BGP_PLATFORM_DIR ?? "/var/lib/ovn-bgp/platforms";

export function isPlatform(s: string): s is Platform {
  return (PLATFORMS as readonly string[]).includes(s);
}

/** `OVN_BGP_PLATFORM` (default bookworm); an unknown name is an error, not a silent fallback. */
export function platformFromEnv(env: NodeJS.ProcessEnv = process.env): Platform {
  const p = env.OVN_BGP_PLATFORM?.trim() || "bookworm";
  if (!isPlatform(p))
    throw new Error(`OVN_BGP_PLATFORM=${p}: unknown platform (known: ${PLATFORMS.join(", ")})`);
  return p;
}

/** The platform's root, or undefined for the host's own packages. */
export function platformRoot(p: Platform): string | undefined {
  return p === "bookworm" ? undefined : join(PLATFORM_DIR, p);
}

/** Why the platform cannot run here (not built yet), or undefined. */
export function platformUnavailable(p: Platform): string | undefined {
  const root = platformRoot(p);
  if (root === undefined) return undefined;
  if (!existsSync(join(root, ".ovn-bgp-platform")) || !existsSync(join(PLATFORM_DIR, `${p}.bin`)))
    return `platform ${p} is not built (run: bash scripts/setup-platform.sh ${p})`;
  return undefined;
}

/** Argv words that run a command from the platform (empty for the host's own). */
export function toolPrefix(p: Platform): string[] {
  return p === "bookworm" ? [] : [join(PLATFORM_DIR, "platform-exec"), p];
}

/** The platform's wrapper directory (one script per OVS/OVN/FRR tool), or undefined. */
export function platformBinDir(p: Platform): string | undefined {
  return p === "bookworm" ? undefined : join(PLATFORM_DIR, `${p}.bin`);
}

/** Argv that starts an FRR daemon (zebra, bgpd, mgmtd, …) of the platform. */
export function frrDaemonArgv(p: Platform, daemon: string): string[] {
  return [...toolPrefix(p), `/usr/lib/frr/${daemon}`];
}

/**
 * FRR >= 9 has mgmtd, the front end that owns part of the configuration; a real FRR 10 host runs
 * it (watchfrr starts it first), so the harness does too. It takes no `-f`.
 */
export function frrHasMgmtd(p: Platform): boolean {
  return existsSync(join(platformRoot(p) ?? "/", "usr/lib/frr/mgmtd"));
}

/** A file of the platform (a schema, say), as the host sees it. */
export function platformFile(p: Platform, path: string): string {
  const root = platformRoot(p);
  return root === undefined ? path : join(root, path);
}

/** PATH without the platform's wrapper directory (what the agent gets: it uses its prefixes). */
export function hostPath(path = process.env.PATH ?? ""): string {
  return path
    .split(delimiter)
    .filter((d) => !d.startsWith(PLATFORM_DIR))
    .join(delimiter);
}

/**
 * Make this process (and its children) run the platform's tools by name. Throws when the platform
 * is not built: a run on the wrong stack must not pass as a run on the right one.
 */
export function usePlatformTools(p: Platform): void {
  const why = platformUnavailable(p);
  if (why) throw new Error(why);
  const bin = platformBinDir(p);
  const rest = hostPath();
  process.env.PATH = bin === undefined ? rest : `${bin}${delimiter}${rest}`;
  process.env.OVN_BGP_PLATFORM = p;
}

/** Use the platform a lab was built on (its state says; labs from before platforms are bookworm). */
export function enterLabPlatform(p: Platform | undefined): void {
  if (p !== undefined && p !== "bookworm") usePlatformTools(p);
}

/** INI lines that point the agent's vtysh / ovs-ofctl at the platform (none for the host's). */
export function agentPlatformConfig(p: Platform): string[] {
  const prefix = toolPrefix(p);
  if (prefix.length === 0) return [];
  const words = prefix.join(" ");
  return [`frr_command_prefix = ${words}`, `ovs_command_prefix = ${words}`];
}

/** `<tool> --version`'s first match of `pattern`, from the PATH (the platform's, once entered). */
function toolVersion(tool: string, pattern: RegExp): string | undefined {
  try {
    return pattern.exec(execFileSync(tool, ["--version"], { encoding: "utf8", timeout: 5_000 }))?.[1];
  } catch {
    return undefined;
  }
}

/** The lab's Open vSwitch version, e.g. "3.5.0". */
export const ovsVersion = (): string | undefined =>
  toolVersion("ovs-vsctl", /\(Open vSwitch\) (\d+\.\d+\.\d+)/);

/** The lab's OVN version, e.g. "25.03.0". */
export const ovnVersion = (): string | undefined => toolVersion("ovn-nbctl", /(\d+\.\d+\.\d+)/);
