/**
 * Shared shapes of the kernel applier: what `observe` reads, what `diff` plans and what `apply`
 * reports. Kept apart from the code that talks to iproute2 so a dry run (`plan`) can print the
 * diff, and tests can build observed state by hand.
 */

export type KernelObjectKind =
  | "link"
  | "address"
  | "rule"
  | "route"
  | "neighbour"
  | "ndp-proxy"
  | "sysctl"
  | "file";

export type KernelOpVerb = "add" | "del" | "replace";

/**
 * Which writer carries an op. `ip` is the one `ip -force -batch -` process for nearly everything.
 * `ip6` is a second one run with `-6`, only for IPv6 rules: `ip rule` defaults to IPv4 when no
 * family is given and a batch line cannot carry `-6` (iproute2 6.1: "Object "-6" is unknown"),
 * while every other object infers its family from the address on the line. `link` is a batch of
 * its own, run first and only when devices change (rare): iproute2 aborts a whole batch on some
 * device-argument errors (`master X` with X missing), which must not cost the other objects.
 */
export type KernelChannel = "link" | "ip" | "ip6" | "sysctl" | "file";

export interface KernelOp {
  readonly kind: KernelObjectKind;
  readonly key: string;
  readonly op: KernelOpVerb;
  readonly channel: KernelChannel;
  /** iproute2 batch lines (channel ip/ip6), in order; one op may need several (create, then set up). */
  readonly lines: readonly string[];
  /** channel sysctl: the /proc/sys-relative path and the value to write. */
  readonly sysctl?: { readonly key: string; readonly path: string; readonly value: string };
  /** channel file: where and what to write (atomically). */
  readonly file?: { readonly path: string; readonly content: string };
  /** Link ops: the device kind, to recognise "the kernel cannot create this kind". */
  readonly linkKind?: string;
}

/** A desired item that is not attempted: invalid value, missing device, foreign object in the way. */
export interface BlockedItem {
  readonly kind: KernelObjectKind;
  readonly key: string;
  readonly op: KernelOpVerb;
  readonly error: string;
}

export interface KernelOps {
  readonly ops: readonly KernelOp[];
  readonly blocked: readonly BlockedItem[];
  /** Host-level problems, each said once (e.g. "this kernel cannot create vrf devices"). */
  readonly problems: readonly string[];
}

export interface ApplyItem {
  readonly kind: KernelObjectKind;
  readonly key: string;
  readonly op: KernelOpVerb;
  readonly ok: boolean;
  readonly error?: string;
}

export interface ApplyReport {
  /** One per op and per blocked item, in batch order (blocked items last). */
  readonly items: readonly ApplyItem[];
  readonly counts: {
    readonly ops: number;
    readonly ok: number;
    readonly failed: number;
    readonly blocked: number;
    readonly add: number;
    readonly del: number;
    readonly replace: number;
  };
  readonly problems: readonly string[];
  /** Child processes started to write (iproute2 batches, sysctl): 0 when there was nothing to do. */
  readonly processes: number;
  /** Where a full pass spent its time (ms), for logs. */
  readonly phases?: { readonly observeMs: number; readonly diffMs: number; readonly applyMs: number };
  /** The batch texts as sent, for logs and dry runs. */
  readonly batches: { readonly link: string; readonly ip: string; readonly ip6: string };
}

export interface ObservedLink {
  readonly name: string;
  readonly kind?: string;
  readonly up: boolean;
  readonly alias?: string;
  readonly master?: string;
  /** VLAN: the parent device and the id. */
  readonly parent?: string;
  readonly vlanId?: number;
  /** VRF: its table. */
  readonly vrfTable?: number;
}

export interface ObservedAddress {
  readonly dev: string;
  readonly cidr: string;
  readonly family: 4 | 6;
  /** "global", "link", "host" (or the number iproute2 printed). */
  readonly scope: string;
}

export interface ObservedRule {
  readonly family: 4 | 6;
  readonly priority: number;
  /** Canonical CIDR; undefined for "from all" rules without a destination. */
  readonly to?: string;
  readonly table: number;
  readonly suppressPrefixlength?: number;
  /** 0 when the rule carries none. */
  readonly protocol: number;
}

export interface ObservedRoute {
  readonly family: 4 | 6;
  readonly table: number;
  readonly dst: string;
  readonly dev?: string;
  readonly via?: string;
  readonly scope: "link" | "global" | "host" | "other";
  readonly metric?: number;
}

export interface ObservedNeighbour {
  readonly family: 4 | 6;
  readonly dev: string;
  readonly ip: string;
  readonly mac?: string;
  readonly protocol: number;
}

export interface ObservedNdpProxy {
  readonly dev: string;
  readonly ip: string;
  readonly protocol: number;
}

/** A snapshot of the kernel as far as the agent cares. Routes are only the agent's (by protocol). */
export interface ObservedKernel {
  readonly links: readonly ObservedLink[];
  readonly addresses: readonly ObservedAddress[];
  readonly rules: readonly ObservedRule[];
  readonly routes: readonly ObservedRoute[];
  /** Every permanent neighbour, ours or not (a foreign one on the same key blocks ours). */
  readonly neighbours: readonly ObservedNeighbour[];
  readonly ndpProxies: readonly ObservedNdpProxy[];
  /** Current values of the desired sysctls (by key); undefined when unreadable/missing. */
  readonly sysctls: ReadonlyMap<string, string | undefined>;
  /** Current content of the managed drop-in files; undefined when absent. */
  readonly files: ReadonlyMap<string, string | undefined>;
  /** Link kinds the kernel refused to create earlier ("Unknown device type"). */
  readonly unsupportedLinkKinds: ReadonlySet<string>;
}
