/**
 * The client side of the control socket (see control-server.ts): one request, one text answer, like
 * `ovs-appctl -t <socket> <command> <args...>`.
 */
import { connect } from "node:net";
import { JsonFramer } from "../ovsdb/wire/json-framer.ts";

export class ControlError extends Error {}

export function callControl(
  path: string,
  method: string,
  args: readonly string[] = [],
  timeoutMs = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const framer = new JsonFramer({ maxMessageBytes: 64 * 1024 * 1024 });
    const fail = (msg: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new ControlError(msg));
    };
    const timer = setTimeout(() => fail(`${path}: no answer to ${method} within ${timeoutMs} ms`), timeoutMs);
    socket.once("connect", () => socket.write(JSON.stringify({ method, params: [...args], id: 0 })));
    socket.on("error", (err: NodeJS.ErrnoException) =>
      fail(
        err.code === "ENOENT" || err.code === "ECONNREFUSED"
          ? `${path}: ${err.code}: is the agent running? (its control socket is control_socket in the config)`
          : `${path}: ${err.message}`,
      ),
    );
    socket.on("data", (chunk: Buffer) => {
      let msgs: unknown[];
      try {
        msgs = framer.push(chunk);
      } catch (err) {
        fail(`${path}: bad answer: ${(err as Error).message}`);
        return;
      }
      const reply = msgs[0] as { result?: unknown; error?: unknown } | undefined;
      if (!reply) return;
      clearTimeout(timer);
      socket.destroy();
      if (reply.error !== null && reply.error !== undefined) reject(new ControlError(String(reply.error)));
      else resolve(String(reply.result ?? ""));
    });
    socket.on("close", () => fail(`${path}: closed without an answer to ${method}`));
  });
}
