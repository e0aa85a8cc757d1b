/**
 * FRR (zebra + bgpd) on every fabric node, each in its namespace and its own pathspace (`-N <ns>`):
 * config in /etc/frr/<ns>/, sockets, pidfiles and log in /var/run/frr/<ns>/. eBGP unnumbered over the
 * veths' IPv6 link-locals (`neighbor <if> interface`), as the seed's `via fe80::…, swp1` shows; the
 * spine relaxes multipath across the leaves' different ASes so it keeps both paths to every host.
 */

import { execFileSync } from "node:child_process";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, runOk } from "../host/exec.ts";
import type { LabNames } from "./names.ts";
import { frrDaemonArgv, frrHasMgmtd } from "./platform.ts";
import { daemonize, poll } from "./proc.ts";
import type { StateRecorder } from "./state.ts";
import { ANNOUNCE_TABLE, type FabricNode, IPV6_KERNEL_METRIC, LINKS, NODES } from "./topology.ts";

/** Interfaces of `node` that face a BGP peer. */
export function fabricPorts(node: string): string[] {
  return LINKS.flatMap((l) => (l.a === node ? [l.aIf] : l.b === node ? [l.bIf] : []));
}

/**
 * The static frr.conf of a node: sessions and policy only. What a host announces is added at run time,
 * by the agent or by `applyManualFrr`.
 */
export function renderNodeConfig(n: FabricNode, logFile: string): string {
  const host = n.role === "host";
  const out = ["frr defaults datacenter", `hostname ${n.name}`, `log file ${logFile}`, "!"];
  if (host) {
    // Hosts announce only what they originate: never transit between the two leaves.
    out.push("bgp as-path access-list LAB-LOCAL seq 5 permit ^$", "!");
    out.push("route-map LAB-OUT permit 10", " match as-path LAB-LOCAL", "exit", "!");
  }
  out.push(
    `router bgp ${n.asn}`,
    ` bgp router-id ${n.lo4}`,
    " no bgp ebgp-requires-policy",
    " no bgp network import-check",
  );
  out.push(
    " bgp bestpath as-path multipath-relax",
    " neighbor fabric peer-group",
    " neighbor fabric remote-as external",
  );
  for (const port of fabricPorts(n.name)) out.push(` neighbor ${port} interface peer-group fabric`);
  const v4: string[] = [];
  const v6 = ["neighbor fabric activate"];
  if (n.role === "spine") {
    // The spine stands for the outside world: it gives the fabric a default route, which the hosts'
    // proxy ARP on br-ex needs to answer for the provider gateway.
    v4.push(`network ${n.lo4}/32`, "neighbor fabric default-originate");
    v6.push(`network ${n.lo6}/128`, "neighbor fabric default-originate");
  }
  if (host) {
    v4.push("neighbor fabric route-map LAB-OUT out");
    v6.push("neighbor fabric route-map LAB-OUT out");
  }
  out.push(" !", " address-family ipv4 unicast", ...v4.map((l) => `  ${l}`), " exit-address-family");
  out.push(
    " !",
    " address-family ipv6 unicast",
    ...v6.map((l) => `  ${l}`),
    " exit-address-family",
    "exit",
    "!",
    "",
  );
  return out.join("\n");
}

function frrIds(): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync("id", ["-u", "frr"]).toString().trim()),
    gid: Number(execFileSync("id", ["-g", "frr"]).toString().trim()),
  };
}

/** vtysh against a node's pathspace; one `-c` per command. */
export async function vtysh(names: LabNames, node: string, ...commands: string[]): Promise<string> {
  const res = await runOk({
    argv: ["vtysh", "--vty_socket", names.frrSockDir(node), ...commands.flatMap((c) => ["-c", c])],
    timeoutMs: 20_000,
  });
  return res.stdout;
}

/** `show … json` through vtysh, parsed. */
export async function vtyshJson<T>(names: LabNames, node: string, command: string): Promise<T> {
  return JSON.parse(await vtysh(names, node, command)) as T;
}

/**
 * Manual mode's announcement, as the agent's table layout does it: zebra imports table 200 and bgpd
 * redistributes it (IPv4); IPv6 host routes are main-table routes with a marker metric.
 */
export async function applyManualFrr(names: LabNames, host: string): Promise<void> {
  const n = NODES.find((x) => x.name === host);
  if (!n) throw new Error(`no host ${host}`);
  await vtysh(
    names,
    host,
    "configure terminal",
    "route-map LAB-KERNEL6 permit 10",
    `match metric ${IPV6_KERNEL_METRIC}`,
    "set metric 0",
    "exit",
    `ip import-table ${ANNOUNCE_TABLE}`,
    `router bgp ${n.asn}`,
    "address-family ipv4 unicast",
    `redistribute table ${ANNOUNCE_TABLE}`,
    "exit-address-family",
    "address-family ipv6 unicast",
    "redistribute kernel route-map LAB-KERNEL6",
    "exit-address-family",
  );
}

export async function startFrr(names: LabNames, rec: StateRecorder): Promise<void> {
  const { uid, gid } = frrIds();
  await Promise.all(
    NODES.map(async (n) => {
      const conf = names.frrConfDir(n.name);
      const sock = names.frrSockDir(n.name);
      for (const d of [conf, sock]) {
        mkdirSync(d, { recursive: true });
        rec.path(d);
        chownSync(d, uid, gid);
      }
      const files: Record<string, string> = {
        "frr.conf": renderNodeConfig(n, join(sock, "frr.log")),
        "vtysh.conf": "service integrated-vtysh-config\n",
        daemons: "zebra=yes\nbgpd=yes\n",
      };
      for (const [f, body] of Object.entries(files)) {
        writeFileSync(join(conf, f), body, { mode: 0o640 });
        chownSync(join(conf, f), uid, gid);
      }
      const ns = names.ns(n.name);
      // FRR >= 9 (trixie's 10.3) runs mgmtd first, as watchfrr does; it takes no -f.
      const platform = rec.state.platform ?? "bookworm";
      for (const d of [...(frrHasMgmtd(platform) ? ["mgmtd"] : []), "zebra", "bgpd"]) {
        const pidFile = join(sock, `${d}.pid`);
        const config =
          d === "mgmtd" ? ["--log", `file:${join(sock, "frr.log")}`] : ["-f", join(conf, "frr.conf")];
        await daemonize(rec, {
          name: `${n.name}/${d}`,
          argv: [
            ...frrDaemonArgv(platform, d),
            ...["-N", ns, "-d", "-F", "datacenter", "-P", "0", ...config, "-i", pidFile],
          ],
          pidFile,
          netns: ns,
        });
      }
      await poll(
        async () => {
          const res = await run({ argv: ["vtysh", "--vty_socket", sock, "-c", "show bgp summary json"] });
          return res.code === 0 && res.stdout.trim().startsWith("{");
        },
        `FRR on ${n.name} to answer vtysh`,
        30_000,
        200,
      );
    }),
  );
}
