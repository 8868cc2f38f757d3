#!/usr/bin/env bash
# Installs the official LLM SDKs that the integration tests run unmodified (tests/clients): Node.js
# and npm from Debian when missing, then exactly the versions of tests/clients/package-lock.json
# into tests/clients/node_modules, with npm's cache in tests/.npm. Idempotent: when node_modules
# already holds what the lockfile says for this Node.js, it does nothing (no network).
set -euo pipefail
cd "$(dirname "$0")/.."
clients=tests/clients
stamp=$clients/node_modules/.shadowai-installed

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -ne 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-clients: missing packages (${missing[*]}); run as root to install them" >&2
    exit 2
  fi
  echo "install-test-clients: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The SDK versions in the lockfile support Node.js 18 (Debian 12's) and later.
node_version=$(node --version)
major=${node_version#v}
major=${major%%.*}
if [ "$major" -lt 18 ]; then
  echo "install-test-clients: Node.js $node_version is too old; the test clients need 18 or later" >&2
  exit 1
fi

wanted="$node_version $(cat "$clients/package.json" "$clients/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi

echo "install-test-clients: installing the SDKs of $clients/package-lock.json (Node.js $node_version)" >&2
(cd "$clients" && npm ci --cache "$PWD/../.npm" --prefer-offline --ignore-scripts --no-audit --no-fund \
   --loglevel=error >/dev/null)
echo "$wanted" >"$stamp"
