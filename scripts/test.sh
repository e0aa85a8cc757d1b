#!/usr/bin/env bash
# The one test command (README, .ci/run): set-up, static checks, unit tests, then the
# integration tests that start real ovsdb-server / OVS / OVN / FRR inside namespaces they create.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The second platform's root (Debian 13: OVN 25.03, OVS 3.5, FRR 10.3), built once and reused;
# test/integration/platform/trixie.test.ts runs a subset of the suite on it.
bash scripts/setup-platform.sh trixie
echo "== typecheck"; npx --no-install tsc --noEmit -p .
echo "== lint";      npx --no-install biome check .
echo "== tests"
# One node:test run so CI reads a single summary. Files run one at a time: the integration files
# start many daemons each, and on a 2-core machine running two at once made FRR restart timing flaky.
# Node 20's test runner does not expand globs itself: bash does.
shopt -s globstar nullglob
exec node --import tsx --test --test-concurrency=1 --test-timeout=1500000 \
  test/unit/**/*.test.ts test/integration/**/*.test.ts
