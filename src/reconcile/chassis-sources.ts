/**
 * Opens the two databases an agent reads, in the order the identity demands: the local
 * Open_vSwitch DB first (it says who we are: system-id, ovn-remote, bridge mappings), then the
 * Southbound, monitored with a Port_Binding condition that is narrowed to this chassis as soon
 * as its Chassis row is known (and again whenever the tenant datapaths of interest change).
 */
import type { AgentConfig } from "../config/agent-config.ts";
import { OVS_DATABASE, OVS_TABLES, type OvsFacts, readOvsFacts } from "../ovs/ovs-facts.ts";
import { OvsdbClient, type OvsdbLogger } from "../ovsdb/client.ts";
import type { SslFiles } from "../ovsdb/transport/connect.ts";
import { portBindingCondition, SB_DATABASE, SB_TABLES } from "../sb/monitor-spec.ts";

export class SourceError extends Error {
  readonly code = "SOURCE";
}

/** Thrown when `open` is aborted (a signal while connecting): nothing was opened. */
export class SourcesAborted extends Error {
  readonly code = "ABORTED";
  constructor() {
    super("stopped while connecting");
  }
}

/** `p`, or a SourcesAborted rejection as soon as `signal` fires. */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new SourcesAborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new SourcesAborted());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export interface ChassisSources {
  readonly ovs: OvsdbClient;
  readonly sb: OvsdbClient;
  readonly chassisName: string;
  readonly sbRemote: string;
  /** Facts at start; follow `ovs` changes with `readOvsFacts(ovs.replica)`. */
  readonly facts: OvsFacts;
  /** Narrow Port_Binding to this chassis plus these tenant datapaths (no-op when unchanged). */
  setInterestingDatapaths(datapaths: Iterable<string>): Promise<void>;
  /** The uuid of this chassis' Chassis row, once it exists. */
  chassisUuid(): string | undefined;
  stop(): Promise<void>;
}

export interface OpenSourcesOptions {
  readonly logger?: OvsdbLogger;
  readonly syncTimeoutMs?: number;
  /** Replicate every Port_Binding (for debugging and for measuring what the condition saves). */
  readonly fullPortBinding?: boolean;
  /** Give up connecting (clients stopped, SourcesAborted thrown) when this fires. */
  readonly signal?: AbortSignal;
}

export async function openChassisSources(
  config: AgentConfig,
  opts: OpenSourcesOptions = {},
): Promise<ChassisSources> {
  const timeout = opts.syncTimeoutMs ?? config.ovn.ovsdb_connection_timeout * 1000;
  const ovs = new OvsdbClient({
    remotes: config.ovsdb_connection,
    database: OVS_DATABASE,
    tables: OVS_TABLES,
    ...(opts.logger ? { logger: opts.logger } : {}),
  }).start();
  try {
    await unlessAborted(ovs.whenSynced(timeout), opts.signal);
  } catch (err) {
    await ovs.stop();
    if (err instanceof SourcesAborted) throw err;
    const cause = /last error: (.*)\)$/.exec((err as Error).message)?.[1];
    throw new SourceError(
      `local Open_vSwitch DB at ${config.ovsdb_connection} (ovsdb_connection) did not answer within ${timeout} ms${cause ? `: ${cause}` : ""} ([ovn] ovsdb_connection_timeout)`,
    );
  }
  const facts = readOvsFacts(ovs.replica);
  const chassisName = config.ovn.chassis_name ?? facts.systemId;
  const sbRemote = config.ovn.ovn_sb_connection ?? facts.ovnRemote;
  if (!chassisName || !sbRemote) {
    await ovs.stop();
    throw new SourceError(
      !chassisName
        ? `no chassis name: set [ovn] chassis_name or external_ids:system-id in ${config.ovsdb_connection}`
        : `no Southbound remote: set [ovn] ovn_sb_connection or external_ids:ovn-remote in ${config.ovsdb_connection}`,
    );
  }
  let ssl: SslFiles | undefined;
  try {
    ssl = sslFiles(config, sbRemote);
  } catch (err) {
    await ovs.stop();
    throw err;
  }
  let where = opts.fullPortBinding ? undefined : portBindingCondition(undefined);
  const sb = new OvsdbClient({
    remotes: sbRemote,
    database: SB_DATABASE,
    tables: { ...SB_TABLES, Port_Binding: { ...SB_TABLES.Port_Binding, ...(where ? { where } : {}) } },
    ...(ssl ? { ssl } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  }).start();

  let datapaths: string[] = [];
  const chassisUuid = (): string | undefined => {
    for (const row of sb.replica.table("Chassis").values()) if (row.name === chassisName) return row._uuid;
    return undefined;
  };
  let lastKey = JSON.stringify(where);
  const narrow = async (): Promise<void> => {
    if (opts.fullPortBinding) return;
    where = portBindingCondition(chassisUuid(), datapaths);
    const key = JSON.stringify(where);
    if (key === lastKey) return;
    lastKey = key;
    await sb.setCondition("Port_Binding", where);
  };
  // Our Chassis row may appear (or be re-created by ovn-controller) at any time.
  sb.on("changes", (changes: ReadonlyArray<{ table: string }>) => {
    if (changes.some((c) => c.table === "Chassis")) {
      narrow().catch((err) =>
        opts.logger?.warn({ err: (err as Error).message }, "monitor_cond_change failed"),
      );
    }
  });
  try {
    await unlessAborted(sb.whenSynced(timeout), opts.signal);
    await unlessAborted(narrow(), opts.signal);
  } catch (err) {
    await Promise.all([sb.stop(), ovs.stop()]);
    if (err instanceof SourcesAborted) throw err;
    throw new SourceError(`Southbound DB at ${sbRemote}: ${(err as Error).message}`);
  }
  return {
    ovs,
    sb,
    chassisName,
    sbRemote,
    facts,
    chassisUuid,
    async setInterestingDatapaths(dps) {
      datapaths = [...new Set(dps)].sort();
      await narrow();
    },
    async stop() {
      await Promise.all([sb.stop(), ovs.stop()]);
    },
  };
}

function sslFiles(config: AgentConfig, remote: string): SslFiles | undefined {
  if (!remote.split(",").some((r) => r.trim().startsWith("ssl:"))) return undefined;
  const {
    ovn_sb_private_key: privateKey,
    ovn_sb_certificate: certificate,
    ovn_sb_ca_cert: caCert,
  } = config.ovn;
  if (!privateKey || !certificate || !caCert) {
    throw new SourceError(
      `Southbound remote ${remote} is ssl: but [ovn] ovn_sb_private_key, ovn_sb_certificate and ovn_sb_ca_cert are not all set`,
    );
  }
  return { privateKey, certificate, caCert };
}
