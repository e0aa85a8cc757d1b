#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by scripts/setup.sh or `npm run build`).
import("../dist/cli/main.js").catch((err) => {
  if (err?.code === "ERR_MODULE_NOT_FOUND") {
    console.error("ovn-bgp: not built yet; run `npm run build` (or scripts/setup.sh)");
    process.exit(2);
  }
  throw err;
});
