#!/usr/bin/env bash
# Installs the Debian packages shadowai builds and tests with. Idempotent: when every package is
# already installed it does nothing (no apt-get update, no network), so a second run is instant.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  clang llvm libbpf-dev bpftool
  libssl-dev openssl nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsystemd-dev systemd
  libboost1.81-dev libvectorscan-dev libsimdjson-dev
  dnsmasq-base curl iproute2 ca-certificates
  rpm debootstrap file  # the package test: CPack's RPM needs rpmbuild, its DEB dpkg-shlibdeps and file
)

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
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 2
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
