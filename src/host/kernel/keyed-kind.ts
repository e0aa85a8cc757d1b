/**
 * The contract every keyed kernel object kind fulfils (address, rule, route, neighbour, NDP proxy):
 * its key, validation, and one decision per key — given what is wanted there (or nothing) and
 * every object observed at that key, which lines bring the key to the wish, and what the key then
 * holds. Each kind lives in its own file (address.ts, rule.ts, …) and implements this once; the
 * full diff (every key, against a fresh observation) and the delta path (a few keys, against the
 * applier's model of what it applied) are the same decision run over different key sets, so the
 * two can never disagree.
 */
import type { KernelState } from "../../plan/desired-state.ts";
import type { BlockedItem, KernelObjectKind, KernelOp, ObservedAddress, ObservedKernel } from "./types.ts";

/** Where an add lands in the batch: addresses, on-link routes, gateway routes, neighbours, NDP proxies, rules. */
export type AddBucket = "address" | "link-route" | "gw-route" | "neighbour" | "ndp-proxy" | "rule";
export const ADD_ORDER: readonly AddBucket[] = [
  "address",
  "link-route",
  "gw-route",
  "neighbour",
  "ndp-proxy",
  "rule",
];
/** Withdrawals: rules first (stop steering), then what they led to; addresses last. */
export const DEL_ORDER: readonly KernelObjectKind[] = ["rule", "neighbour", "ndp-proxy", "route", "address"];

export interface KindContext {
  /** The agent's route protocol (ownership mark). */
  readonly proto: number;
  /** Whether a device exists (or is being created in this batch). */
  present(dev: string): boolean;
  /** Whether an observed address is the agent's (owned device, or a helper address). */
  ownsAddress(a: ObservedAddress): boolean;
}

/** Collects what decisions produce. */
export interface OpSink {
  add(bucket: AddBucket, op: KernelOp): void;
  del(op: KernelOp): void;
  block(item: BlockedItem): void;
}

export interface KeyedKind<D, O> {
  readonly kind: KernelObjectKind;
  /** This kind's items in a desired state / an observation. */
  desired(s: KernelState): readonly D[];
  observed(o: ObservedKernel): readonly O[];
  /** A label for an unchecked desired item (its fields may be hostile: JSON keeps newlines out). */
  label(raw: D): string;
  /** Validate and canonicalise; throws InvalidValueError naming the bad value. */
  check(raw: D): D;
  key(d: D): string;
  observedKey(o: O): string;
  /** The device an observed object lives on (it vanishes with the device). */
  observedDev(o: O): string | undefined;
  /** Bring one key to `want` (undefined: the agent wants nothing there) given everything observed at it. */
  decide(want: D | undefined, have: readonly O[], ctx: KindContext, out: OpSink): void;
  /** What the key holds once `decide`'s ops have succeeded. */
  after(want: D | undefined, have: readonly O[], ctx: KindContext): O[];
}

/** A loose label for an item whose fields may be hostile. */
export const label = (v: unknown): string => JSON.stringify(v);

export const ipOp = (
  kind: KernelObjectKind,
  key: string,
  op: KernelOp["op"],
  lines: string[],
  channel: KernelOp["channel"] = "ip",
): KernelOp => ({ kind, key, op, channel, lines });

export const missingDev = (dev: string): string => `device ${dev} does not exist`;
