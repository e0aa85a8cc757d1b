/**
 * A real OVN central (NB ovsdb-server, SB ovsdb-server or 3-member SB RAFT cluster, ovn-northd) for
 * integration tests, plus `addChassis` to fake a hypervisor's Chassis row without ovn-controller.
 *
 *   const central = await startOvnCentral();                  // { clusteredSb: true } for a RAFT SB
 *   await central.nbctl("ls-add", "sw0", "--", "lsp-add", "sw0", "p1");
 *   await central.waitForNorthd();                            // `ovn-nbctl --wait=sb sync`: SB is up to date
 *   await addChassis(central.sbUnixRemote, { name: "ch1", hostname: "h1", encapIp: "127.0.0.1" });
 *   await central.sbctl("lsp-bind", "p1", "ch1");
 *   agentConfig.sbRemote = central.sbRemote;                  // tcp:127.0.0.1:P (cluster: tcp:…,tcp:…,tcp:…)
 *   await central.stop();                                     // also done automatically at process exit
 *
 * `central.sb` (standalone) or `central.sbCluster` (clustered) and `central.nb` give the servers for
 * fault tests (kill/restart); `central.northd` is its Daemon. Bound `nbctl`/`sbctl` use the unix sockets,
 * which work from any namespace; with `netns`, everything runs inside that namespace and the TCP remotes
 * are on its loopback.
 *
 * Note: a port bound by hand (`lsp-bind`) stays bound only while no ovn-controller runs on that chassis
 * without an interface for it (ovn-controller releases such bindings).
 */
import { Daemon } from "./daemon.ts";
import { appctl, type DbTarget, nbctl, sbctl } from "./db-ctl.ts";
import { ovsEnv } from "./ovsdb-common.ts";
import { type OvsdbCluster, type OvsdbServer, startOvsdbCluster, startOvsdbServer } from "./ovsdb-server.ts";
import { unixSocketAccepts } from "./ports.ts";

export interface OvnCentralOptions {
  /** Serve the Southbound DB from a 3-member RAFT cluster instead of one server. */
  readonly clusteredSb?: boolean;
  /** Run every daemon inside this network namespace. */
  readonly netns?: string;
}

export interface OvnCentral {
  readonly nb: OvsdbServer;
  /** The standalone SB server (undefined when clustered). */
  readonly sb: OvsdbServer | undefined;
  /** The SB cluster (undefined when standalone). */
  readonly sbCluster: OvsdbCluster | undefined;
  readonly northd: Daemon;
  /** "unix:…" of the NB server. */
  readonly nbRemote: string;
  /** TCP remote(s) of the SB, comma-separated when clustered: what an agent's config takes. */
  readonly sbRemote: string;
  /** Unix remote(s) of the SB, comma-separated when clustered (usable from any namespace). */
  readonly sbUnixRemote: string;
  nbctl(...args: string[]): Promise<string>;
  sbctl(...args: string[]): Promise<string>;
  /** Wait until northd has turned the current NB contents into SB contents. */
  waitForNorthd(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOvnCentral(opts: OvnCentralOptions = {}): Promise<OvnCentral> {
  const ns = opts.netns ? { netns: opts.netns } : {};
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const [nb, sbOrCluster] = await Promise.all([
      startOvsdbServer({ schema: "nb", tcp: true, name: "ovn-nb", ...ns }),
      opts.clusteredSb
        ? startOvsdbCluster({ schema: "sb", name: "ovn-sb-raft", ...ns })
        : startOvsdbServer({ schema: "sb", tcp: true, name: "ovn-sb", ...ns }),
    ]);
    started.push(nb);
    const sb = "members" in sbOrCluster ? undefined : sbOrCluster;
    const sbCluster = "members" in sbOrCluster ? sbOrCluster : undefined;
    started.push(sb ?? { stop: () => (sbCluster as OvsdbCluster).stopAll() });
    const sbUnixRemote = sb ? sb.unixRemote : (sbCluster as OvsdbCluster).unixRemotes;
    const sbRemote = sb ? (sb.tcpRemote as string) : (sbCluster as OvsdbCluster).remotes;

    const northd = new Daemon({
      name: "ovn-northd",
      dir: nb.dir,
      ...ns,
      env: ovsEnv(nb.dir),
      argv: (p) => [
        "ovn-northd",
        `--ovnnb-db=${nb.unixRemote}`,
        `--ovnsb-db=${sbUnixRemote}`,
        `--pidfile=${p.pidFile}`,
        `--log-file=${p.logFile}`,
        `--unixctl=${p.ctlSocket}`,
        "-vconsole:off",
      ],
      // "active" = connected to both databases and holding the SB lock: it will process NB changes.
      ready: async (d) =>
        (await unixSocketAccepts(d.ctlSocket)) && /Status: active/.test(await appctl(d.ctlSocket, "status")),
    });
    await northd.start();
    started.push(northd);

    const central: OvnCentral = {
      nb,
      sb,
      sbCluster,
      northd,
      nbRemote: nb.unixRemote,
      sbRemote,
      sbUnixRemote,
      nbctl: (...args) => nbctl(nb.unixRemote, ...args),
      sbctl: (...args) => sbctl(sbUnixRemote, ...args),
      waitForNorthd: async () => {
        await nbctl(nb.unixRemote, "--wait=sb", "sync");
      },
      stop: async () => {
        await northd.stop();
        await Promise.all([nb.stop(), sb ? sb.stop() : sbCluster?.stopAll()]);
      },
    };
    return central;
  } catch (err) {
    await Promise.all(started.map((s) => s.stop().catch(() => {})));
    throw err;
  }
}

export interface ChassisSpec {
  readonly name: string;
  readonly encapIp: string;
  /** Default "geneve". */
  readonly encapType?: "geneve" | "vxlan" | "stt";
  readonly hostname?: string;
  /** Chassis.other_config, e.g. { "ovn-bridge-mappings": "public:br-ex", "ovn-cms-options": "enable-chassis-as-gw" }. */
  readonly otherConfig?: Readonly<Record<string, string>>;
  /** Chassis.external_ids (older OVN and some CMS settings live here). */
  readonly externalIds?: Readonly<Record<string, string>>;
}

/** `column:"key"="value"` arguments, quoted so values with ':' or ',' (bridge mappings) survive. */
function mapArgs(column: string, map: Readonly<Record<string, string>> | undefined): string[] {
  return Object.entries(map ?? {}).map(([k, v]) => `${column}:${JSON.stringify(k)}=${JSON.stringify(v)}`);
}

/**
 * Create a Chassis with its Encap and Chassis_Private row in one transaction, as ovn-controller would
 * on start-up, so tests can `lsp-bind` ports to it without running ovn-controller. Returns the
 * Chassis _uuid.
 */
export async function addChassis(sb: DbTarget, spec: ChassisSpec): Promise<string> {
  const sets = [
    ...(spec.hostname !== undefined ? [`hostname=${JSON.stringify(spec.hostname)}`] : []),
    ...mapArgs("other_config", spec.otherConfig),
    ...mapArgs("external_ids", spec.externalIds),
  ];
  await sbctl(
    sb,
    "chassis-add",
    spec.name,
    spec.encapType ?? "geneve",
    spec.encapIp,
    ...(sets.length ? ["--", "set", "Chassis", spec.name, ...sets] : []),
    "--",
    "--id=@c",
    "get",
    "Chassis",
    spec.name,
    "--",
    "create",
    "Chassis_Private",
    `name=${JSON.stringify(spec.name)}`,
    "chassis=@c",
  );
  return (
    await sbctl(sb, "--bare", "--columns=_uuid", "find", "Chassis", `name=${JSON.stringify(spec.name)}`)
  ).trim();
}

/** Delete a chassis (its Encaps and Chassis_Private go with it), as when a hypervisor is removed. */
export async function removeChassis(sb: DbTarget, name: string): Promise<void> {
  await sbctl(sb, "chassis-del", name);
}
