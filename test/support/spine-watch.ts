/**
 * What a spine sees, sampled every `intervalMs` (default 50 ms) for the fault drills: each sample is
 * the set of BGP prefixes the spine holds (IPv4 and IPv6). `withdrawals(prefixes)` lists every
 * sample in which one of the watched prefixes was missing after it had been seen, so a drill can
 * assert "no prefix withdrawn" over a whole fault and measure how long a heal took.
 */
import type { AgentRig } from "./agent-rig.ts";
import { sleep } from "./wait.ts";

export interface SpineSample {
  readonly at: number;
  readonly prefixes: ReadonlySet<string>;
}

export class SpineWatch {
  readonly samples: SpineSample[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly rig: AgentRig,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const at = Date.now();
        try {
          const [v4, v6] = await Promise.all([this.rig.spineRoutes(4), this.rig.spineRoutes(6)]);
          this.samples.push({ at, prefixes: new Set([...Object.keys(v4), ...Object.keys(v6)]) });
        } catch {
          /* vtysh busy: the next sample counts */
        }
        await sleep(Math.max(0, this.intervalMs - (Date.now() - at)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Samples since `from` (ms since the epoch) in which a watched prefix was missing. */
  withdrawals(prefixes: readonly string[], from = 0): Array<{ at: number; missing: string[] }> {
    const out: Array<{ at: number; missing: string[] }> = [];
    for (const s of this.samples) {
      if (s.at < from) continue;
      const missing = prefixes.filter((p) => !s.prefixes.has(p));
      if (missing.length > 0) out.push({ at: s.at, missing });
    }
    return out;
  }

  /** Samples taken since `from`. */
  count(from = 0): number {
    return this.samples.filter((s) => s.at >= from).length;
  }
}
