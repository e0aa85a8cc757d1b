/**
 * The agent's local control socket, spoken the way `ovs-appctl` talks to OVS daemons (OVS's unixctl:
 * JSON-RPC 1.0 over a Unix socket, `{"method": "status", "params": [...], "id": N}` answered by
 * `{"id": N, "result": "<text>", "error": null}`), so `ovn-bgp status` and plain
 * `ovs-appctl -t /run/ovn-bgp/agent.ctl status` both work. Results are always text; a command given
 * `--json` answers with one JSON document in that text.
 *
 * The socket is the agent's only way in besides signals: it is created mode 0660 in a directory the
 * agent owns, and a socket that still answers means another agent is running here, which refuses
 * this start (two agents on one host would fight over the same objects).
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { JsonFramer } from "../ovsdb/wire/json-framer.ts";

/** One command: its arguments (strings, as ovs-appctl sends them) → its text answer. Throw to answer an error. */
export type ControlHandler = (args: readonly string[]) => string | Promise<string>;

export interface ControlCommand {
  readonly handler: ControlHandler;
  /** "[--json]", shown by `list-commands`. */
  readonly usage: string;
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

export class ControlSocketBusyError extends Error {}

/** Listen on `path`; the commands plus `list-commands`. Rejects when another process answers there. */
export async function startControlServer(
  path: string,
  commands: ReadonlyMap<string, ControlCommand>,
): Promise<ControlServer> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  await removeStale(path);
  const all = new Map(commands);
  all.set("list-commands", {
    usage: "",
    handler: () =>
      `The available commands are:\n${[...all.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, c]) => `  ${name}${c.usage ? ` ${c.usage}` : ""}`)
        .join("\n")}\n`,
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serve(socket, all);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o660);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(socket: Socket, commands: ReadonlyMap<string, ControlCommand>): void {
  const framer = new JsonFramer({ maxMessageBytes: 1024 * 1024 });
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    let messages: unknown[];
    try {
      messages = framer.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const msg of messages) void answer(socket, msg, commands);
  });
}

async function answer(socket: Socket, msg: unknown, commands: ReadonlyMap<string, ControlCommand>) {
  const m = msg as { method?: unknown; params?: unknown; id?: unknown };
  if (typeof m !== "object" || m === null || typeof m.method !== "string") return;
  const id = m.id ?? null;
  const reply = (result: string | null, error: string | null) => {
    if (!socket.destroyed) socket.write(JSON.stringify({ id, result, error }));
  };
  const cmd = commands.get(m.method);
  if (!cmd) {
    reply(null, `"${m.method}" is not a valid command (use list-commands to see the available ones)`);
    return;
  }
  const args = Array.isArray(m.params) ? m.params.map(String) : [];
  try {
    reply(await cmd.handler(args), null);
  } catch (err) {
    reply(null, err instanceof Error ? err.message : String(err));
  }
}

/** A socket left by a dead agent is removed; one that answers is another agent's. */
async function removeStale(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new ControlSocketBusyError(`control socket ${path}: exists and is not a socket`);
  const answers = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (answers)
    throw new ControlSocketBusyError(
      `control socket ${path} answers: another ovn-bgp agent is running on this host (two would fight over the same routes)`,
    );
  unlinkSync(path);
}
