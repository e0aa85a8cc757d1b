/**
 * Loopback ports and sockets for test daemons.
 *
 * - `pickPort()` hands out a port that is free now, from 20000–32000: below Linux's ephemeral range, so
 *   no outgoing connection can grab it between the pick and the daemon's bind; never the same port twice
 *   in one process. Two test files running in parallel can still collide: `tcpPortsOwnedBy` lets the
 *   caller verify that *its* daemon holds the port (and retry with new ports if not).
 * - `unixSocketAccepts(path)` / `tcpAccepts(port)`: one connect attempt, true if accepted.
 */
import { createConnection, createServer } from "node:net";
import { run } from "../../src/host/exec.ts";

const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export async function pickPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("pickPort: no free port found in 20000-32000");
}

export async function pickPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await pickPort());
  return ports;
}

/** TCP ports that process `pid` listens on (via `ss`, run inside `netns` when given). */
export async function tcpPortsOwnedBy(pid: number, netns?: string): Promise<Set<number>> {
  const res = await run({ argv: ["ss", "-Hltnp"], ...(netns ? { netns } : {}), timeoutMs: 10_000 });
  const ports = new Set<number>();
  for (const line of res.stdout.split("\n")) {
    if (!line.includes(`pid=${pid},`)) continue;
    const local = line.trim().split(/\s+/)[3];
    const port = Number(local?.slice(local.lastIndexOf(":") + 1));
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}

function connects(
  opts: { path: string } | { port: number; host: string },
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(opts);
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/** True if a unix stream socket at `path` accepts a connection (works across network namespaces). */
export function unixSocketAccepts(path: string, timeoutMs = 1000): Promise<boolean> {
  return connects({ path }, timeoutMs);
}

/** True if 127.0.0.1:`port` in the root namespace accepts a TCP connection. */
export function tcpAccepts(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<boolean> {
  return connects({ port, host }, timeoutMs);
}
