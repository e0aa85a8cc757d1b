/**
 * "host:port" listen addresses (`metrics_listen`), shared by config validation and the metrics server
 * so both accept exactly the same strings. IPv6 hosts are bracketed (`[::1]:9797`), as in URLs. The host
 * is mandatory: exposing metrics beyond loopback must be a visible choice (`0.0.0.0:9797`), never the
 * accident of an empty host.
 */

export interface ListenAddress {
  /** Without brackets, as `net.Server.listen` wants it. */
  readonly host: string;
  /** 0 asks the kernel for a free port (tests). */
  readonly port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const IPV6ISH = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

/** Returns the parsed address, or undefined when `text` is not of the form described above. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const v6 = m[1];
  if (v6 !== undefined) return v6.includes(":") && IPV6ISH.test(v6) ? { host: v6, port } : undefined;
  const host = m[2] ?? "";
  return HOSTNAME.test(host) ? { host, port } : undefined;
}

/** The inverse of parseListenAddress (brackets IPv6 hosts). */
export function formatListenAddress(addr: ListenAddress): string {
  return addr.host.includes(":") ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}
