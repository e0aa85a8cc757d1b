/**
 * Runs an async check every `intervalMs`, for the kinds of host state that send no change
 * notification (sysctls, NDP proxy entries, FRR's configuration). Checks never overlap (a slow one
 * makes the next wait), a failing check is the check's own business, and the timer does not keep
 * the process alive. `intervalMs` 0 disables it.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly intervalMs: number,
    private readonly check: () => Promise<unknown>,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.check();
    } catch {
      /* the check reports its own failures */
    } finally {
      this.busy = false;
    }
  }
}
