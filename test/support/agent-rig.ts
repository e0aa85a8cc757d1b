/**
 * One hypervisor and its spine, on real parts, for the agent's end-to-end tests:
 *
 *   OVN central (NB → ovn-northd → SB) with the seed's topology built through the NB as Neutron
 *   builds it; a chassis namespace ("host", chassis rack-1-host-1) with its own OVS (userspace
 *   datapath, br-ex mapped to "public") and FRR; a "spine" namespace with FRR, peering with the
 *   host over a veth (IPv4 10.255.1.0/30 and, with `ipv6`, fd00:255::/64 for the IPv6 family).
 *
 * `cli()` runs `ovn-bgp` inside the host namespace with the rig's INI file (plus extra files);
 * `startAgent()` runs the daemon there; `spineRoutes(4|6)` is what the spine installed from BGP.
 * Bindings are left to the test (`central.sbctl("lsp-bind", …)`): no ovn-controller runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ExecResult, run } from "../../src/host/exec.ts";
import { agentPlatformConfig, hostPath } from "../../src/lab/platform.ts";
import { type FrrInstance, startFrr } from "./frr.ts";
import { createNetns, type Netns, PLATFORM, RUN_PREFIX } from "./netns.ts";
import { addChassis, type OvnCentral, startOvnCentral } from "./ovn-central.ts";
import { type OvsSwitch, startOvs } from "./ovs-switch.ts";
import { makeTempDir } from "./temp-dir.ts";
import { waitFor } from "./wait.ts";

const REPO = join(import.meta.dirname, "../..");
export const CHASSIS = "rack-1-host-1";
export const OTHER_CHASSIS = "rack-2-host-1";

/** The seed's addresses as this rig builds them (IPv6 only with `ipv6`). */
export const RIG = {
  vm1: { port: "vm1-port", mac: "fa:16:3e:11:22:33", ip4: "172.24.4.92", ip6: "2001:db8::21c" },
  crLrp: { port: "cr-lrp-gw", mac: "fa:16:3e:bf:93:93", ip4: "172.24.4.163", ip6: "2001:db8::20" },
  tenantSubnet: "10.0.0.64/26",
  vmTenant: { port: "vm-tenant", mac: "fa:16:3e:0b:99:2b", ip: "10.0.0.95" },
  fip: { ip: "172.24.4.79", mac: "fa:16:3e:5e:2a:79" },
} as const;

export interface AgentRigOptions {
  /** IPv6 on the provider network and router gateway, and an IPv6 BGP session. */
  readonly ipv6?: boolean;
  /** A second gateway chassis for the router (OTHER_CHASSIS, lower priority): failover is possible. */
  readonly standbyGateway?: boolean;
  /** A distributed floating IP (dnat_and_snat with logical_port and external_mac) for vm-tenant. */
  readonly fip?: boolean;
  /** Extra INI lines for [DEFAULT]. */
  readonly config?: readonly string[];
  /** Serve the Southbound from a 3-member RAFT cluster (the agent gets every member's remote). */
  readonly clusteredSb?: boolean;
}

export interface AgentRig {
  readonly central: OvnCentral;
  readonly hostNs: Netns;
  readonly spineNs: Netns;
  readonly ovs: OvsSwitch;
  readonly hostFrr: FrrInstance;
  readonly spineFrr: FrrInstance;
  readonly confFile: string;
  readonly dir: string;
  /** `ovn-bgp <args> --config-file <rig's> [--config-file extra…]` inside the host namespace. */
  cli(args: readonly string[], extraConfigFiles?: readonly string[]): Promise<ExecResult>;
  /** Write an extra INI file (for `cli`) and return its path. */
  extraConfig(name: string, lines: readonly string[]): string;
  /** The agent daemon inside the host namespace; `log()` is its stderr so far. */
  /** `wrap`: argv put between `ip netns exec NS` and `node` (e.g. a `setpriv` that drops privileges). */
  startAgent(extraConfigFiles?: readonly string[], wrap?: readonly string[]): RunningAgent;
  /** br-int patched to br-ex, as ovn-controller leaves it: the agent's MAC-rewrite flows then go on br-ex. */
  patchBrInt(): Promise<void>;
  /** Prefixes the spine holds from BGP, family 4 or 6. */
  spineRoutes(family: 4 | 6): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface RunningAgent {
  readonly child: ChildProcess;
  log(): string;
  /** SIGTERM (or the given signal) and wait for the exit; the exit code, or "timeout". */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null | "timeout">;
}

const spineConf = (ipv6: boolean) => `
router bgp 65000
 bgp router-id 10.255.1.2
 no bgp ebgp-requires-policy
 neighbor 10.255.1.1 remote-as 64999
${ipv6 ? " neighbor fd00:255::1 remote-as 64999\n" : ""} address-family ipv4 unicast
  neighbor 10.255.1.1 activate
 exit-address-family
${ipv6 ? " address-family ipv6 unicast\n  neighbor fd00:255::1 activate\n exit-address-family\n" : ""}!`;

const hostConf = (ipv6: boolean) => `
router bgp 64999
 bgp router-id 10.255.1.1
 no bgp ebgp-requires-policy
 neighbor 10.255.1.2 remote-as 65000
 neighbor 10.255.1.2 description operator-spine
${ipv6 ? " neighbor fd00:255::2 remote-as 65000\n address-family ipv6 unicast\n  neighbor fd00:255::2 activate\n exit-address-family\n" : ""}!`;

/** The seed's topology through the NB: provider network, router with gateway, tenant subnet and VM. */
async function buildSeedTopology(central: OvnCentral, opts: AgentRigOptions): Promise<void> {
  const nb = (...a: string[]) => central.nbctl(...a);
  const v6 = opts.ipv6 === true;
  /** A switch port of type router peering with `lrp`, as Neutron makes them. */
  const routerPort = (ls: string, lsp: string, lrp: string, ...options: string[]) =>
    nb(
      ...["lsp-add", ls, lsp, "--", "lsp-set-type", lsp, "router", "--", "lsp-set-addresses", lsp, "router"],
      ...["--", "lsp-set-options", lsp, `router-port=${lrp}`, ...options],
    );
  await nb("ls-add", "public");
  await nb("lsp-add", "public", "provnet-public", "--", "lsp-set-type", "provnet-public", "localnet");
  await nb(
    "lsp-set-addresses",
    "provnet-public",
    "unknown",
    "--",
    "lsp-set-options",
    "provnet-public",
    "network_name=public",
  );
  const vm1 = `${RIG.vm1.mac} ${RIG.vm1.ip4}${v6 ? ` ${RIG.vm1.ip6}` : ""}`;
  await nb("lsp-add", "public", RIG.vm1.port, "--", "lsp-set-addresses", RIG.vm1.port, vm1);
  await nb("lr-add", "router-test");
  const gwNets = [`${RIG.crLrp.ip4}/24`, ...(v6 ? [`${RIG.crLrp.ip6}/64`] : [])];
  await nb("lrp-add", "router-test", "lrp-gw", RIG.crLrp.mac, ...gwNets);
  await nb("lrp-set-gateway-chassis", "lrp-gw", CHASSIS, "10");
  if (opts.standbyGateway) await nb("lrp-set-gateway-chassis", "lrp-gw", OTHER_CHASSIS, "5");
  await routerPort("public", "public-router", "lrp-gw", "nat-addresses=router");
  // Neutron's default route via the provider gateway.
  await nb("lr-route-add", "router-test", "0.0.0.0/0", "172.24.4.1");
  await nb("ls-add", "private-test");
  await nb("lrp-add", "router-test", "lrp-tenant", "fa:16:3e:34:30:23", "10.0.0.65/26");
  await routerPort("private-test", "private-router", "lrp-tenant");
  const tenant = `${RIG.vmTenant.mac} ${RIG.vmTenant.ip}`;
  await nb(
    "lsp-add",
    "private-test",
    RIG.vmTenant.port,
    "--",
    "lsp-set-addresses",
    RIG.vmTenant.port,
    tenant,
  );
  if (opts.fip)
    await nb(
      "lr-nat-add",
      "router-test",
      "dnat_and_snat",
      RIG.fip.ip,
      RIG.vmTenant.ip,
      RIG.vmTenant.port,
      RIG.fip.mac,
    );
  await central.waitForNorthd();
  await waitFor(
    async () =>
      (
        await central.sbctl(
          "--bare",
          "--columns=logical_port",
          "find",
          "Port_Binding",
          `logical_port=${RIG.crLrp.port}`,
        )
      ).trim() || undefined,
    { what: "cr-lrp in SB" },
  );
}

export async function startAgentRig(opts: AgentRigOptions = {}): Promise<AgentRig> {
  const v6 = opts.ipv6 === true;
  const central = await startOvnCentral(opts.clusteredSb ? { clusteredSb: true } : {});
  const [hostNs, spineNs] = await Promise.all([createNetns("host"), createNetns("spine")]);
  const veth = `${RUN_PREFIX}h`;
  await hostNs.exec([
    "ip",
    "link",
    "add",
    veth,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "netns",
    spineNs.name,
  ]);
  await hostNs.exec(["ip", "addr", "add", "10.255.1.1/30", "dev", veth]);
  await spineNs.exec(["ip", "addr", "add", "10.255.1.2/30", "dev", "eth0"]);
  if (v6) {
    await hostNs.exec(["ip", "addr", "add", "fd00:255::1/64", "dev", veth, "nodad"]);
    await spineNs.exec(["ip", "addr", "add", "fd00:255::2/64", "dev", "eth0", "nodad"]);
  }
  await hostNs.exec(["ip", "link", "set", veth, "up"]);
  await spineNs.exec(["ip", "link", "set", "eth0", "up"]);

  const sb = central.sbUnixRemote;
  const ovs = await startOvs(hostNs.name);
  await ovs.addBridge("br-ex");
  await ovs.vsctl(
    "set",
    "Open_vSwitch",
    ".",
    `external_ids:system-id=${CHASSIS}`,
    `external_ids:ovn-remote=${sb}`,
    "external_ids:ovn-bridge-mappings=public:br-ex",
  );
  await hostNs.exec(["ip", "link", "set", "br-ex", "up"]);
  await addChassis(sb, { name: CHASSIS, encapIp: "192.0.2.11" });
  await addChassis(sb, { name: OTHER_CHASSIS, encapIp: "192.0.2.21" });
  const [hostFrr, spineFrr] = await Promise.all([
    startFrr({ netns: hostNs.name, config: hostConf(v6), tag: "frrh" }),
    startFrr({ netns: spineNs.name, config: spineConf(v6), tag: "frrs" }),
  ]);
  await buildSeedTopology(central, opts);

  const dir = makeTempDir("agentconf");
  const confFile = join(dir, "bgp-agent.conf");
  writeFileSync(
    confFile,
    [
      "[DEFAULT]",
      "bgp_AS = 64999",
      "bgp_router_id = 10.255.1.1",
      "expose_tenant_networks = True",
      `ovsdb_connection = ${ovs.db}`,
      `frr_vty_socket_dir = ${hostFrr.socketDir}`,
      `rt_tables_dropin = ${join(dir, "rt_tables.d", "ovn-bgp.conf")}`,
      "metrics_listen =",
      `control_socket = ${join(dir, "agent.ctl")}`,
      "reconcile_interval = 5",
      // On another platform the agent reaches its vtysh / ovs-ofctl through its own options, as an
      // operator's would, not through the harness's PATH (which the agent does not get).
      ...agentPlatformConfig(PLATFORM),
      ...(opts.config ?? []),
      "",
    ].join("\n"),
  );
  const configArgs = (extra: readonly string[]) => [confFile, ...extra].flatMap((f) => ["--config-file", f]);
  const mainTs = join(REPO, "src/cli/main.ts");

  const agents: RunningAgent[] = [];
  const rig: AgentRig = {
    central,
    hostNs,
    spineNs,
    ovs,
    hostFrr,
    spineFrr,
    confFile,
    dir,
    cli: (args, extra = []) =>
      run({
        argv: ["node", "--import", "tsx", mainTs, ...args, ...configArgs(extra)],
        netns: hostNs.name,
        env: { ...ovs.env, PATH: hostPath() },
        timeoutMs: 180_000,
      }),
    extraConfig(name, lines) {
      const f = join(dir, name);
      writeFileSync(f, `${lines.join("\n")}\n`);
      return f;
    },
    startAgent(extra = [], wrap = []) {
      const child = spawn(
        "ip",
        [
          "netns",
          "exec",
          hostNs.name,
          ...wrap,
          "node",
          "--import",
          "tsx",
          mainTs,
          "agent",
          ...configArgs(extra),
        ],
        { env: { ...process.env, ...ovs.env, PATH: hostPath() }, stdio: ["ignore", "ignore", "pipe"] },
      );
      let log = "";
      child.stderr?.on("data", (b: Buffer) => {
        log += b.toString();
        if (log.length > 400_000) log = log.slice(-200_000);
      });
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const agent: RunningAgent = {
        child,
        log: () => log,
        async stop(signal = "SIGTERM", timeoutMs = 20_000) {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return Promise.race([
            exited,
            new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs)),
          ]);
        },
      };
      agents.push(agent);
      return agent;
    },
    async patchBrInt() {
      await ovs.addBridge("br-int");
      await ovs.vsctl(
        ...["add-port", "br-ex", "patch-provnet-public-to-br-int", "--", "set", "interface"],
        ...["patch-provnet-public-to-br-int", "type=patch", "options:peer=patch-br-int-to-provnet-public"],
        ...["--", "add-port", "br-int", "patch-br-int-to-provnet-public", "--", "set", "interface"],
        ...["patch-br-int-to-provnet-public", "type=patch", "options:peer=patch-provnet-public-to-br-int"],
      );
    },
    async spineRoutes(family) {
      return JSON.parse(
        await spineFrr.vtysh(family === 4 ? "show ip route bgp json" : "show ipv6 route bgp json"),
      );
    },
    async stop() {
      for (const a of agents) a.child.kill("SIGKILL");
      await Promise.allSettled([hostFrr.stop(), spineFrr.stop(), ovs.stop()]);
      await Promise.allSettled([hostNs.remove(), spineNs.remove()]);
      await central.stop();
    },
  };
  return rig;
}
