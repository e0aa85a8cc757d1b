/**
 * Script entry for the lab while the CLI frame is not there: `node --import tsx src/lab/main.ts up`.
 * Usage: main.ts up|check|status|down [--manual] [--instance NAME]
 */
import { runLabCommand } from "./lab.ts";

const [command, ...rest] = process.argv.slice(2);
const manual = rest.includes("--manual");
const i = rest.indexOf("--instance");
const instance = i >= 0 ? rest[i + 1] : undefined;
process.exitCode = await runLabCommand(command ?? "", { manual, ...(instance ? { instance } : {}) }, (l) =>
  process.stdout.write(`${l}\n`),
);
