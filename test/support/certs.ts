/**
 * Throwaway TLS material for SSL tests: `await makeCerts(dir)` writes, with `openssl`, a CA, a server
 * certificate (CN and SAN 127.0.0.1) and a client certificate, both signed by that CA, and returns
 * their paths. ECDSA P-256 keys: fast to make on a small machine. OVS/OVN programs take them as
 * `--private-key=… --certificate=… --ca-cert=…` (server and client use the same CA).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "../../src/host/exec.ts";
import { RUN_PREFIX } from "./netns.ts";

export interface Certs {
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
}

const openssl = (...args: string[]) => runOk({ argv: ["openssl", ...args] });

async function newKey(path: string): Promise<void> {
  await openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path);
}

async function signed(dir: string, tag: string, cn: string, ext: string): Promise<[string, string]> {
  const key = join(dir, `${tag}.key`);
  const csr = join(dir, `${tag}.csr`);
  const crt = join(dir, `${tag}.crt`);
  const extFile = join(dir, `${tag}.ext`);
  writeFileSync(extFile, ext);
  await newKey(key);
  await openssl("req", "-new", "-key", key, "-subj", `/CN=${cn}`, "-out", csr);
  await openssl(
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    join(dir, "ca.crt"),
    "-CAkey",
    join(dir, "ca.key"),
    "-CAcreateserial",
    "-days",
    "30",
    "-extfile",
    extFile,
    "-out",
    crt,
  );
  return [key, crt];
}

/** Create CA, server and client certificates in `dir` (which must exist). */
export async function makeCerts(dir: string): Promise<Certs> {
  const caKey = join(dir, "ca.key");
  const caCert = join(dir, "ca.crt");
  await newKey(caKey);
  await openssl(
    "req",
    "-x509",
    "-new",
    "-key",
    caKey,
    "-subj",
    `/CN=${RUN_PREFIX} test CA`,
    "-days",
    "30",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-out",
    caCert,
  );
  const [serverKey, serverCert] = await signed(
    dir,
    "server",
    "127.0.0.1",
    "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  const [clientKey, clientCert] = await signed(
    dir,
    "client",
    `${RUN_PREFIX}-client`,
    "extendedKeyUsage=clientAuth,serverAuth\n",
  );
  return { caCert, serverKey, serverCert, clientKey, clientCert };
}
