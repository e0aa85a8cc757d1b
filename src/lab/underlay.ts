/**
 * The lab's underlay: one namespace per node, veth pairs spine↔leaf and leaf↔host created directly
 * inside the namespaces (never in the root namespace), loopbacks, forwarding sysctls, and the separate
 * tunnel segment (a Linux bridge in `<prefix>-tun`) that carries Geneve between the hosts' br-phy.
 */
import { run, runOk } from "../host/exec.ts";
import type { LabNames } from "./names.ts";
import { CENTRAL, TUNNEL, VM_NAMES } from "./names.ts";
import type { StateRecorder } from "./state.ts";
import { HOSTS, LINKS, NODES } from "./topology.ts";

/** `ip -n NS -batch -`: many iproute2 commands in one process. */
export async function ipBatch(ns: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await runOk({ argv: ["ip", "-n", ns, "-batch", "-"], stdin: `${lines.join("\n")}\n` });
}

export async function sysctl(ns: string, settings: Readonly<Record<string, string | number>>): Promise<void> {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  await runOk({ argv: ["sysctl", "-q", "-w", ...args], netns: ns });
}

export async function createNamespace(rec: StateRecorder, ns: string): Promise<void> {
  const res = await run({ argv: ["ip", "netns", "add", ns] });
  if (res.code !== 0) throw new Error(`ip netns add ${ns}: ${res.stderr.trim()}`);
  rec.namespace(ns);
  await runOk({ argv: ["ip", "-n", ns, "link", "set", "lo", "up"] });
  // No DAD: addresses are usable at once, and unique by construction.
  await sysctl(ns, { "net.ipv6.conf.all.accept_dad": 0, "net.ipv6.conf.default.accept_dad": 0 });
}

/** Namespaces, sysctls, loopbacks and every veth of the fabric and of the tunnel segment. */
export async function buildUnderlay(names: LabNames, rec: StateRecorder): Promise<void> {
  const fabric = NODES.map((n) => n.name);
  for (const name of [CENTRAL, TUNNEL, ...fabric, ...VM_NAMES]) await createNamespace(rec, names.ns(name));

  await Promise.all(
    NODES.map(async (n) => {
      const ns = names.ns(n.name);
      await sysctl(ns, {
        "net.ipv4.ip_forward": 1,
        "net.ipv6.conf.all.forwarding": 1,
        "net.ipv4.conf.all.rp_filter": 0,
        "net.ipv4.conf.default.rp_filter": 0,
        // Unnumbered BGP needs the peers' link-locals: keep IPv6 on every port.
        "net.ipv6.conf.default.disable_ipv6": 0,
      });
      await ipBatch(ns, [`address add ${n.lo4}/32 dev lo`, `address add ${n.lo6}/128 dev lo`]);
    }),
  );

  for (const l of LINKS) {
    const a = names.ns(l.a);
    const b = names.ns(l.b);
    await runOk({
      argv: ["ip", "-n", a, "link", "add", l.aIf, "type", "veth", "peer", "name", l.bIf, "netns", b],
    });
    await runOk({ argv: ["ip", "-n", a, "link", "set", l.aIf, "up"] });
    await runOk({ argv: ["ip", "-n", b, "link", "set", l.bIf, "up"] });
  }

  // Tunnel segment: one Linux bridge, one veth per host; the host end becomes a port of br-phy.
  const tun = names.ns(TUNNEL);
  await ipBatch(tun, ["link add br-tun type bridge", "link set br-tun up"]);
  for (const [i, h] of HOSTS.entries()) {
    const side = `h${i + 1}`;
    await runOk({
      argv: [
        "ip",
        "-n",
        tun,
        "link",
        "add",
        side,
        "mtu",
        "9000",
        "type",
        "veth",
        "peer",
        "name",
        "tun0",
        "netns",
        names.ns(h),
      ],
    });
    await ipBatch(tun, [`link set ${side} master br-tun`, `link set ${side} up`]);
    await ipBatch(names.ns(h), ["link set tun0 mtu 9000", "link set tun0 up"]);
  }
}
