#!/usr/bin/env bash
# Installs the Debian packages the benchmarks use besides the build dependencies (install-deps.sh):
# nginx (the `nginx-light` package: the HTTP core with TLS, proxy and upstream keepalive, no extra
# modules), the reference reverse proxy of bench/intercept_bench.cpp; and linux-perf, to profile a
# run. Idempotent: when every package is already installed it does nothing (no apt-get update, no
# network), so a second run is instant.
#
# nginx is never started as a service: the benchmark runs its own nginx, in its own namespaces, with
# its own configuration. On a host where installing a package would start services (no
# /usr/sbin/policy-rc.d), a policy that forbids it is put in place for the install and removed after.
set -euo pipefail

packages=(nginx-light linux-perf)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 2
fi

policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# install-bench-deps.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  own_policy=1
fi
cleanup() {
  if [ -n "$own_policy" ]; then rm -f "$policy"; fi
}
trap cleanup EXIT

echo "install-bench-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
