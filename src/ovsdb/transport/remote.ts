/**
 * OVSDB remote strings as OVS and OVN write them: `unix:PATH`, `tcp:HOST:PORT`, `ssl:HOST:PORT`
 * (IPv6 hosts in brackets: `tcp:[::1]:6642`), and comma-separated lists of them for a clustered
 * database. Passive remotes (`punix:`, `ptcp:`, `pssl:`) are server-side and rejected here.
 */
export type Remote =
  | { readonly kind: "unix"; readonly path: string; readonly text: string }
  | { readonly kind: "tcp" | "ssl"; readonly host: string; readonly port: number; readonly text: string };

export class RemoteError extends Error {
  readonly code = "OVSDB_REMOTE";
}

const DEFAULT_PORT = 6640;

export function parseRemote(text: string): Remote {
  const s = text.trim();
  const colon = s.indexOf(":");
  const scheme = colon < 0 ? "" : s.slice(0, colon);
  const rest = colon < 0 ? "" : s.slice(colon + 1);
  switch (scheme) {
    case "unix":
      if (!rest) throw new RemoteError(`remote '${text}': unix: needs a socket path`);
      return { kind: "unix", path: rest, text: s };
    case "tcp":
    case "ssl": {
      const { host, port } = parseHostPort(rest, text);
      return { kind: scheme, host, port, text: s };
    }
    case "punix":
    case "ptcp":
    case "pssl":
      throw new RemoteError(
        `remote '${text}': ${scheme}: is a listening (server) remote; the agent needs an active one`,
      );
    default:
      throw new RemoteError(`remote '${text}': expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT`);
  }
}

function parseHostPort(rest: string, text: string): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0) throw new RemoteError(`remote '${text}': unterminated '[' in IPv6 host`);
    host = rest.slice(1, end);
    const after = rest.slice(end + 1);
    if (after && !after.startsWith(":")) throw new RemoteError(`remote '${text}': junk after ']'`);
    portText = after ? after.slice(1) : undefined;
  } else {
    const parts = rest.split(":");
    if (parts.length > 2)
      throw new RemoteError(`remote '${text}': IPv6 hosts must be in brackets, e.g. tcp:[::1]:6642`);
    host = parts[0] ?? "";
    portText = parts[1];
  }
  if (!host) throw new RemoteError(`remote '${text}': missing host`);
  const port = portText === undefined || portText === "" ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RemoteError(`remote '${text}': port must be 1..65535, got '${portText}'`);
  }
  return { host, port };
}

/** `tcp:a:6642,tcp:b:6642` → three Remotes; empty entries are ignored, duplicates kept once. */
export function parseRemoteList(text: string): Remote[] {
  const seen = new Set<string>();
  const out: Remote[] = [];
  for (const part of text.split(",")) {
    if (!part.trim()) continue;
    const r = parseRemote(part);
    if (seen.has(r.text)) continue;
    seen.add(r.text);
    out.push(r);
  }
  if (out.length === 0) throw new RemoteError(`remote list '${text}' is empty`);
  return out;
}
