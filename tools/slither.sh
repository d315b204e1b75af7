#!/usr/bin/env bash
# Static analysis of the contracts with slither through the solc-js adapter (see docs/static-analysis.md).
# Fails on any medium- or high-impact finding that is not triaged there. Usage: tools/slither.sh SLITHER_BIN
set -euo pipefail
slither="${1:?usage: tools/slither.sh SLITHER_BIN}"
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n 's/.*"solc": "\(.*\)".*/\1/p' "$root/package.json")"
cd "$root"
# slither globs a directory's *.sol (not recursively) when given --solc-standard-json: one run per folder.
for dir in contracts/identity contracts/token contracts/payments contracts/factory; do
  "$slither" "$dir" \
    --solc "$root/.solcx/solc-v$version" --solc-standard-json \
    --solc-remaps "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/" \
    --filter-paths node_modules \
    --exclude-informational --exclude-optimization --exclude-low \
    --exclude uninitialized-state,uninitialized-local \
    --fail-medium
done
