/**
 * Entry point of `ovn-bgp` (bin/ovn-bgp.js imports the built copy): runs the program on process.argv as
 * soon as it is imported. Everything else lives in program.ts, which tests drive in-process.
 */
import { runCli } from "./program.ts";

const abort = new AbortController();
let signals = 0;
const onSignal = (): void => {
  signals += 1;
  // First signal: let the running command stop cleanly. Second: the operator insists.
  if (signals > 1) process.exit(130);
  abort.abort();
};
// `ovn-bgp config | head`: a reader that went away is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: abort.signal,
});
process.off("SIGINT", onSignal);
process.off("SIGTERM", onSignal);
