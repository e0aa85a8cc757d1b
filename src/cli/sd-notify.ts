/**
 * systemd's readiness protocol (`Type=notify`): when the service manager gave us `NOTIFY_SOCKET`,
 * `READY=1`, `RELOADING=1` and `STATUS=…` are sent with `systemd-notify`, which by default waits
 * until systemd has taken the message (so it is attributed to this unit even though the sender is a
 * short-lived child; the unit says `NotifyAccess=all`). Node has no Unix datagram sockets, and a
 * message is sent only when the agent's state changes (ready, reloading, a new problem), so one
 * small process per message is the simple and correct choice here.
 */
import { type Exec, run } from "../host/exec.ts";

export class SdNotifier {
  private last = "";
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly socket: string | undefined = process.env.NOTIFY_SOCKET,
    private readonly exec: Exec = run,
  ) {}

  get enabled(): boolean {
    return Boolean(this.socket);
  }

  /** Send `KEY=VALUE` fields (in order); repeated identical messages are sent once. Never throws. */
  notify(fields: Readonly<Record<string, string>>): Promise<void> {
    if (!this.socket) return Promise.resolve();
    const args = Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, " ")}`);
    const key = args.join("\n");
    if (key === this.last) return Promise.resolve();
    this.last = key;
    const next = this.chain.then(() =>
      this.exec({ argv: ["systemd-notify", ...args], timeoutMs: 10_000 }).catch(() => undefined),
    );
    this.chain = next;
    return next.then(() => undefined);
  }
}
