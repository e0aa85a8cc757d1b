/**
 * Drift of the agent's br-ex flows: one long-lived `ovs-ofctl monitor <bridge> watch:!initial`
 * per provider bridge streams every flow added, modified or deleted. An event on a flow with one of
 * the agent's cookies that the agent did not cause is drift (someone ran `ovs-ofctl del-flows`, a
 * bridge was re-created): `onDrift(bridge)` asks for a flows pass.
 *
 * The agent's own writes are recognised by time: events while a flows pass writes and for
 * `quietMs` after it are its echo (the monitor reports them within milliseconds). A foreign change
 * inside that window is caught by the pass's own read-back or the periodic pass.
 * A monitor that exits (the bridge went, OVS restarted) is started again after `restartMs`.
 * `ovs-ofctl monitor` opens its own control socket in the OVS run directory (OVS_RUNDIR, default
 * /var/run/openvswitch), which must exist.
 */
import { type SpawnStreaming, type StreamingChild, spawnStreaming } from "../exec.ts";

export interface FlowWatcherOptions {
  readonly cookies: readonly number[];
  /** `ovs-ofctl` target of a bridge (its name, or `unix:<rundir>/<bridge>.mgmt`). */
  readonly target?: (bridge: string) => string;
  readonly onDrift: (bridge: string, line: string) => void;
  /** A monitor that exited, with what it said (the agent logs it). */
  readonly onMonitorExit?: (bridge: string, why: string) => void;
  readonly spawn?: SpawnStreaming;
  readonly netns?: string;
  /** Words before `ovs-ofctl` (config `ovs_command_prefix`). */
  readonly commandPrefix?: readonly string[];
  readonly quietMs?: number;
  readonly restartMs?: number;
}

const EVENT = /\bevent=(ADDED|DELETED|MODIFIED)\b.*?\bcookie=(0x[0-9a-fA-F]+|\d+)/;

export class FlowWatcher {
  private readonly monitors = new Map<string, { child?: StreamingChild; timer?: NodeJS.Timeout }>();
  private readonly cookies: ReadonlySet<bigint>;
  private writing = 0;
  private quietUntil = 0;
  private stopped = false;
  private recheck: NodeJS.Timeout | undefined;

  constructor(private readonly opts: FlowWatcherOptions) {
    this.cookies = new Set(opts.cookies.map((c) => BigInt(c)));
  }

  /** Watch exactly these bridges (monitors for new ones start, others stop). */
  watch(bridges: readonly string[]): void {
    if (this.stopped) return;
    const want = new Set(bridges);
    for (const [b, m] of this.monitors)
      if (!want.has(b)) {
        this.monitors.delete(b);
        if (m.timer) clearTimeout(m.timer);
        m.child?.kill();
      }
    for (const b of want) if (!this.monitors.has(b)) this.startMonitor(b);
  }

  /** The agent is about to write flows: what the monitors see until `wrote()` (+ quietMs) is echo. */
  writingFlows(): void {
    this.writing += 1;
  }

  wrote(): void {
    this.writing = Math.max(0, this.writing - 1);
    this.quietUntil = Date.now() + (this.opts.quietMs ?? 1000);
  }

  /**
   * What a monitor line says about our flows: `drift`; `maybe` (a deletion while the agent writes
   * or just wrote: its own pruning, or someone else's deletion that must not be lost); or nothing.
   * An addition or change in that window is the agent's own echo.
   */
  private judge(line: string): "drift" | "maybe" | undefined {
    const m = EVENT.exec(line);
    if (!m) return undefined;
    if (!this.cookies.has(BigInt(m[2] as string))) return undefined;
    if (this.writing === 0 && Date.now() >= this.quietUntil) return "drift";
    return m[1] === "DELETED" ? "maybe" : undefined;
  }

  /**
   * A deletion seen while the agent wrote flows is looked at once the writes are over: one flows
   * pass, which changes nothing when the deletion was the agent's own pruning. Before, such a
   * deletion by someone else (right after any flows pass) waited for the periodic pass.
   */
  private recheckLater(bridge: string, line: string): void {
    if (this.recheck) return;
    const fire = () => {
      if (this.stopped) {
        this.recheck = undefined;
        return;
      }
      const wait = this.writing > 0 ? 100 : this.quietUntil - Date.now();
      if (wait > 0) {
        this.recheck = setTimeout(fire, wait + 10);
        this.recheck.unref();
        return;
      }
      this.recheck = undefined;
      this.opts.onDrift(bridge, line);
    };
    this.recheck = setTimeout(fire, 0);
    this.recheck.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.recheck) clearTimeout(this.recheck);
    for (const m of this.monitors.values()) {
      if (m.timer) clearTimeout(m.timer);
      m.child?.kill();
    }
    this.monitors.clear();
  }

  private startMonitor(bridge: string): void {
    const slot: { child?: StreamingChild; timer?: NodeJS.Timeout } = {};
    this.monitors.set(bridge, slot);
    const target = this.opts.target?.(bridge) ?? bridge;
    const onEvent = (line: string) => {
      const verdict = this.judge(line);
      if (verdict === "drift") this.opts.onDrift(bridge, line.trim());
      else if (verdict === "maybe") this.recheckLater(bridge, line.trim());
    };
    slot.child = (this.opts.spawn ?? spawnStreaming)({
      argv: [...(this.opts.commandPrefix ?? []), "ovs-ofctl", "monitor", target, "watch:!initial"],
      ...(this.opts.netns ? { netns: this.opts.netns } : {}),
      // The flow updates arrive on stderr (only the reply to the request is on stdout): read both.
      onLine: onEvent,
      onErrLine: onEvent,
      onExit: (code, signal, stderr) => {
        if (this.stopped || this.monitors.get(bridge) !== slot) return;
        this.opts.onMonitorExit?.(bridge, stderr.trim() || `exit ${code ?? signal}`);
        slot.child = undefined;
        slot.timer = setTimeout(() => {
          if (this.stopped || this.monitors.get(bridge) !== slot) return;
          this.monitors.delete(bridge);
          this.startMonitor(bridge);
        }, this.opts.restartMs ?? 5000);
        slot.timer.unref();
      },
    });
  }
}
