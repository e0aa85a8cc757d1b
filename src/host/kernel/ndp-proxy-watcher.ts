/**
 * NDP proxy entries send no netlink notification when they are deleted, so `ip monitor` cannot
 * see someone remove one of the agent's. While the plan holds any, the agent reads the proxy list
 * once a second through a long-lived `ip -6 -j -batch` reader (`IpQuery`, no process start per
 * look); an entry the agent put in place that is gone is drift, healed by a kernel full pass.
 */
import { Poller } from "../../util/poller.ts";
import type { IpQuery } from "./ip-query.ts";
import { observedNdpProxyKey, parseNdpProxies } from "./ndp-proxy.ts";

export interface NdpProxyWatcherOptions {
  readonly query: Pick<IpQuery, "query" | "close">;
  /** Keys (`dev|ip`) the agent has put in place and still wants. */
  readonly expected: () => readonly string[];
  /** Changes whenever the agent writes the kernel: a look that overlapped a write proves nothing. */
  readonly generation: () => number;
  readonly onDrift: (missing: readonly string[]) => void;
  readonly intervalMs?: number;
}

export class NdpProxyWatcher {
  private readonly poller: Poller;

  constructor(private readonly opts: NdpProxyWatcherOptions) {
    this.poller = new Poller(opts.intervalMs ?? 1000, () => this.check());
  }

  start(): void {
    this.poller.start();
  }

  stop(): void {
    this.poller.stop();
    this.opts.query.close();
  }

  /** One look (also used by tests). Returns the missing keys. */
  async check(): Promise<string[]> {
    const expected = this.opts.expected();
    if (expected.length === 0) return [];
    const gen = this.opts.generation();
    let present: Set<string>;
    try {
      present = new Set(
        parseNdpProxies(await this.opts.query.query("neigh show proxy")).map(observedNdpProxyKey),
      );
    } catch {
      return [];
    }
    // A kernel write during this look is judged at the next look.
    if (this.opts.generation() !== gen) return [];
    const missing = expected.filter((k) => !present.has(k));
    if (missing.length > 0) this.opts.onDrift(missing);
    return missing;
  }
}
