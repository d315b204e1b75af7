#!/usr/bin/env bash
# Installs the solc-js adapter as .solcx/solc-v<VERSION>, the executable name py-solc-x looks for.
set -euo pipefail
version="${1:?usage: install-solc-adapter.sh VERSION}"
root="$(cd "$(dirname "$0")/.." && pwd)"
installed="$(node -e "console.log(require('$root/node_modules/solc/package.json').version)")"
if [ "$installed" != "$version" ]; then
  echo "npm solc is $installed but $version was asked for; keep package.json and ape-config.yaml in step" >&2
  exit 1
fi
mkdir -p "$root/.solcx"
target="$root/.solcx/solc-v$version"
cat > "$target.tmp" <<SH
#!/usr/bin/env bash
exec node "$root/tools/solc-adapter.js" "\$@"
SH
chmod +x "$target.tmp"
mv "$target.tmp" "$target"
"$target" --version | grep -q "Version: $version+commit" || { echo "adapter self-check failed" >&2; exit 1; }
echo "solc-js $version adapter installed at $target"
