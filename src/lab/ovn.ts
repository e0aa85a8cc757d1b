/**
 * OVN in the lab: central (NB and SB ovsdb-servers plus northd) in `<prefix>-central`, serving every
 * host over unix sockets in the run dir (all namespaces share the filesystem); per host its own
 * ovsdb-server, ovs-vswitchd (bridges `datapath_type=netdev`: this kernel has no openvswitch module)
 * and ovn-controller, each daemon with its own run dir through OVS_RUNDIR/OVN_RUNDIR.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { run, runOk } from "../host/exec.ts";
import type { LabNames } from "./names.ts";
import { CENTRAL } from "./names.ts";
import { daemonize, poll } from "./proc.ts";
import type { StateRecorder } from "./state.ts";
import { HOST_SPECS, type HostSpec, TUNNEL_PREFIX_LEN, WORKLOAD } from "./topology.ts";
import { ipBatch } from "./underlay.ts";

export const centralPaths = (names: LabNames) => {
  const dir = names.dir(CENTRAL);
  return { dir, nbSock: join(dir, "nb.sock"), sbSock: join(dir, "sb.sock") };
};

/** The environment that points OVS/OVN tools and daemons at one host's private run dir. */
export function hostEnv(names: LabNames, host: string): Record<string, string> {
  const dir = names.dir(host);
  return {
    OVS_RUNDIR: dir,
    OVS_LOGDIR: dir,
    OVS_DBDIR: dir,
    OVN_RUNDIR: dir,
    OVN_LOGDIR: dir,
    OVS_SYSCONFDIR: dir,
  };
}

export const hostDbSock = (names: LabNames, host: string) => join(names.dir(host), "db.sock");

export async function nbctl(names: LabNames, args: readonly string[]): Promise<string> {
  const { nbSock } = centralPaths(names);
  return (await runOk({ argv: ["ovn-nbctl", `--db=unix:${nbSock}`, ...args], timeoutMs: 30_000 })).stdout;
}

export async function sbctl(names: LabNames, args: readonly string[]): Promise<string> {
  const { sbSock } = centralPaths(names);
  return (await runOk({ argv: ["ovn-sbctl", `--db=unix:${sbSock}`, ...args], timeoutMs: 30_000 })).stdout;
}

export async function vsctl(names: LabNames, host: string, args: readonly string[]): Promise<string> {
  return (
    await runOk({
      argv: ["ovs-vsctl", `--db=unix:${hostDbSock(names, host)}`, "--timeout=20", ...args],
      env: hostEnv(names, host),
    })
  ).stdout;
}

export async function startCentral(names: LabNames, rec: StateRecorder): Promise<void> {
  const { dir, nbSock, sbSock } = centralPaths(names);
  const ns = names.ns(CENTRAL);
  mkdirSync(dir, { recursive: true });
  const env = { OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVN_RUNDIR: dir, OVN_LOGDIR: dir };
  await Promise.all(
    (["nb", "sb"] as const).map(async (db) => {
      const file = join(dir, `${db}.db`);
      await runOk({ argv: ["ovsdb-tool", "create", file, `/usr/share/ovn/ovn-${db}.ovsschema`] });
      await daemonize(rec, {
        name: `central/ovsdb-server-${db}`,
        argv: [
          "ovsdb-server",
          file,
          `--remote=punix:${db === "nb" ? nbSock : sbSock}`,
          "--detach",
          "--no-chdir",
          `--pidfile=${join(dir, `${db}.pid`)}`,
          `--log-file=${join(dir, `${db}.log`)}`,
          `--unixctl=${join(dir, `${db}.ctl`)}`,
        ],
        pidFile: join(dir, `${db}.pid`),
        netns: ns,
        env,
      });
    }),
  );
  await nbctl(names, ["init"]);
  await daemonize(rec, {
    name: "central/ovn-northd",
    argv: [
      "ovn-northd",
      `--ovnnb-db=unix:${nbSock}`,
      `--ovnsb-db=unix:${sbSock}`,
      "--detach",
      "--no-chdir",
      `--pidfile=${join(dir, "northd.pid")}`,
      `--log-file=${join(dir, "northd.log")}`,
      `--unixctl=${join(dir, "northd.ctl")}`,
    ],
    pidFile: join(dir, "northd.pid"),
    netns: ns,
    env,
  });
}

/** One chassis: ovsdb-server, ovs-vswitchd, bridges, the tunnel address on br-phy, ovn-controller. */
export async function startChassis(names: LabNames, rec: StateRecorder, h: HostSpec): Promise<void> {
  const dir = names.dir(h.name);
  const ns = names.ns(h.name);
  const env = hostEnv(names, h.name);
  mkdirSync(dir, { recursive: true });
  const db = join(dir, "conf.db");
  await runOk({ argv: ["ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema"] });
  await daemonize(rec, {
    name: `${h.name}/ovsdb-server`,
    argv: [
      "ovsdb-server",
      db,
      `--remote=punix:${hostDbSock(names, h.name)}`,
      "--detach",
      "--no-chdir",
      `--pidfile=${join(dir, "ovsdb-server.pid")}`,
      `--log-file=${join(dir, "ovsdb-server.log")}`,
    ],
    pidFile: join(dir, "ovsdb-server.pid"),
    netns: ns,
    env,
  });
  await vsctl(names, h.name, ["--no-wait", "init"]);
  const { sbSock } = centralPaths(names);
  const gateway = WORKLOAD.router.gatewayChassis.some((g) => g.host === h.name);
  await vsctl(names, h.name, [
    "--no-wait",
    "set",
    "Open_vSwitch",
    ".",
    `external_ids:system-id=${h.name}`,
    `external_ids:hostname=${h.name}`,
    `external_ids:ovn-remote=unix:${sbSock}`,
    "external_ids:ovn-encap-type=geneve",
    `external_ids:ovn-encap-ip=${h.tunnelIp}`,
    "external_ids:ovn-bridge-datapath-type=netdev",
    "external_ids:ovn-bridge-mappings=public:br-ex",
    ...(gateway ? ["external_ids:ovn-cms-options=enable-chassis-as-gw"] : []),
  ]);
  await daemonize(rec, {
    name: `${h.name}/ovs-vswitchd`,
    argv: [
      "ovs-vswitchd",
      `unix:${hostDbSock(names, h.name)}`,
      "--detach",
      "--no-chdir",
      `--pidfile=${join(dir, "ovs-vswitchd.pid")}`,
      `--log-file=${join(dir, "ovs-vswitchd.log")}`,
    ],
    pidFile: join(dir, "ovs-vswitchd.pid"),
    netns: ns,
    env,
  });
  await vsctl(names, h.name, [
    "--may-exist",
    "add-br",
    "br-ex",
    "--",
    "set",
    "bridge",
    "br-ex",
    "datapath_type=netdev",
    "--",
    "--may-exist",
    "add-br",
    "br-phy",
    "--",
    "set",
    "bridge",
    "br-phy",
    "datapath_type=netdev",
    "--",
    "--may-exist",
    "add-port",
    "br-phy",
    "tun0",
    "--",
    "set",
    "interface",
    "br-phy",
    "mtu_request=9000",
  ]);
  await poll(
    async () => (await run({ argv: ["ip", "-n", ns, "link", "show", "br-phy"] })).code === 0,
    `br-phy tap on ${h.name}`,
    15_000,
    50,
  );
  await ipBatch(ns, [
    `address add ${h.tunnelIp}/${TUNNEL_PREFIX_LEN} dev br-phy`,
    "link set br-phy up",
    "link set br-ex up",
  ]);
  await daemonize(rec, {
    name: `${h.name}/ovn-controller`,
    argv: [
      "ovn-controller",
      `unix:${hostDbSock(names, h.name)}`,
      "--detach",
      "--no-chdir",
      `--pidfile=${join(dir, "ovn-controller.pid")}`,
      `--log-file=${join(dir, "ovn-controller.log")}`,
    ],
    pidFile: join(dir, "ovn-controller.pid"),
    netns: ns,
    env,
  });
}

export async function startAllChassis(names: LabNames, rec: StateRecorder): Promise<void> {
  await Promise.all(HOST_SPECS.map((h) => startChassis(names, rec, h)));
  await poll(
    async () => {
      const out = await sbctl(names, ["--bare", "--columns=name", "list", "Chassis"]);
      const have = new Set(out.split(/\s+/).filter(Boolean));
      return HOST_SPECS.every((h) => have.has(h.name));
    },
    "every host's Chassis row in the Southbound DB",
    30_000,
    200,
  );
}
