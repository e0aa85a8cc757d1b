/**
 * Opens the byte stream to one remote. The only code in the OVSDB client that creates sockets.
 *
 * SSL follows OVS's model: the peer's certificate must chain to the configured CA; host names are
 * not checked (OVS remotes are usually IP addresses and ovsdb-server does not check them either).
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { Remote } from "./remote.ts";

export interface SslFiles {
  readonly privateKey: string;
  readonly certificate: string;
  readonly caCert: string;
}

export class ConnectError extends Error {
  readonly code = "OVSDB_CONNECT";
}

export function connectRemote(
  remote: Remote,
  opts: { ssl?: SslFiles; timeoutMs: number },
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const fail = (err: Error) => {
      socket?.destroy();
      reject(new ConnectError(`${remote.text}: ${err.message}`));
    };
    try {
      if (remote.kind === "unix") {
        socket = net.connect({ path: remote.path });
      } else if (remote.kind === "tcp") {
        socket = net.connect({ host: remote.host, port: remote.port });
      } else {
        if (!opts.ssl) throw new Error("ssl: remote needs a private key, certificate and CA certificate");
        socket = tls.connect({
          host: remote.host,
          port: remote.port,
          key: readFileSync(opts.ssl.privateKey),
          cert: readFileSync(opts.ssl.certificate),
          ca: readFileSync(opts.ssl.caCert),
          checkServerIdentity: () => undefined,
        });
      }
    } catch (err) {
      reject(new ConnectError(`${remote.text}: ${(err as Error).message}`));
      return;
    }
    const readyEvent = remote.kind === "ssl" ? "secureConnect" : "connect";
    const timer = setTimeout(
      () => fail(new Error(`no connection after ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    socket.once("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      resolve(socket);
    });
  });
}
