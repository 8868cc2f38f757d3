#!/usr/bin/env bash
# The packages, end to end (root; CTest label "package"):
#  1. CPack builds the .deb and the .rpm from the build directory's install rules.
#  2. Their metadata, file lists, modes, conffiles and maintainer scripts are what a host needs
#     (dpkg-deb -I/-c, rpm -qpi/-qlp/--scripts/--requires).
#  3. The .deb goes into a fresh Debian root made with debootstrap (the base tarball is cached
#     outside the repository, in $SHADOWAI_TEST_CACHE, default /var/cache/shadowai-tests, so later
#     runs skip debootstrap): apt resolves its dependencies; the commands run; the unit passes
#     systemd-analyze verify; the group, directories, catalog and enablement are in place.
#  4. An edited conffile survives an upgrade; a unit the operator disabled stays disabled; remove
#     keeps configuration and state, purge removes both.
# Nothing is started: the root has no running systemd, and the test never enters the host's
# cgroups or BPF. It runs in its own mount namespace, so the root's mounts go when it ends.
#
#   tests/package/package_test.sh BUILD_DIR VERSION
set -euo pipefail

build_dir=$(cd "${1:?usage: package_test.sh BUILD_DIR VERSION}" && pwd)
version=${2:?usage: package_test.sh BUILD_DIR VERSION}
cache_dir=${SHADOWAI_TEST_CACHE:-/var/cache/shadowai-tests}
mirror=${SHADOWAI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

if [ "$(id -u)" -ne 0 ]; then
  echo "package_test: needs root (debootstrap, chroot, mounts); skipped" >&2
  exit 77
fi
for tool in cpack dpkg-deb rpm rpmbuild debootstrap unshare; do
  if ! command -v "$tool" >/dev/null; then
    echo "package_test: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
done

# Everything below runs in a private mount namespace: the chroot's /proc and /dev mounts, and the
# apt cache bind mount, cannot outlive the test.
if [ -z "${SHADOWAI_PACKAGE_TEST_IN_NS:-}" ]; then
  exec env SHADOWAI_PACKAGE_TEST_IN_NS=1 unshare --mount --propagation private "$0" "$@"
fi

work=$(mktemp -d /tmp/shadowai-package-test.XXXXXX)
root="$work/root"
cleanup() {
  # Mounts first (they are in this namespace only, but rm must not walk into /proc or /dev).
  for mount_point in "$root/var/cache/apt/archives" "$root/dev/pts" "$root/dev" "$root/proc"; do
    mountpoint -q "$mount_point" 2>/dev/null && umount -l "$mount_point"
  done
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
step() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: the command must succeed.
check() {
  local description=$1
  shift
  if "$@" >/dev/null 2>&1; then pass "$description"; else fail "$description"; fi
}
# contains DESCRIPTION TEXT PATTERN: TEXT has a line matching the extended regex PATTERN.
contains() {
  if grep -Eq -- "$3" <<<"$2"; then pass "$1"; else fail "$1 (no line matches /$3/)"; fi
}
lacks() {
  if grep -Eq -- "$3" <<<"$2"; then fail "$1 (a line matches /$3/)"; else pass "$1"; fi
}
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

step "cpack builds the .deb and the .rpm"
(cd "$build_dir" && cpack -G "DEB;RPM" -B "$work/out") >"$work/cpack.log" 2>&1 || {
  cat "$work/cpack.log"
  echo "package_test: cpack failed" >&2
  exit 1
}
deb=$(ls "$work/out"/shadowai_"$version"_*.deb)
rpm_file=$(ls "$work/out"/shadowai-"$version"-1.*.rpm)
pass "built $(basename "$deb") and $(basename "$rpm_file")"

# The files every package must carry, with their modes.
expected_files=(
  "usr/sbin/shadowaid:-rwxr-xr-x"
  "usr/sbin/shadowai:-rwxr-xr-x"
  "usr/sbin/shadowai-scan:-rwxr-xr-x"
  "usr/lib/systemd/system/shadowaid.service:-rw-r--r--"
  "usr/lib/sysusers.d/shadowai.conf:-rw-r--r--"
  "usr/lib/tmpfiles.d/shadowai.conf:-rw-r--r--"
  "usr/lib/systemd/catalog/shadowai.catalog:-rw-r--r--"
  "etc/shadowai/shadowaid.json:-rw-r--r--"
  "etc/shadowai/policy.d/00-default.json:-rw-r--r--"
  "etc/shadowai/endpoints.d/00-local.json:-rw-r--r--"
  "usr/share/shadowai/endpoints.json:-rw-r--r--"
  "usr/share/shadowai/detectors.json:-rw-r--r--"
  "usr/share/man/man8/shadowaid.8.gz:-rw-r--r--"
  "usr/share/man/man8/shadowai.8.gz:-rw-r--r--"
  "usr/share/man/man8/shadowai-scan.8.gz:-rw-r--r--"
  "usr/share/bash-completion/completions/shadowai:-rw-r--r--"
  "usr/share/bash-completion/completions/shadowaid:-rw-r--r--"
  "usr/share/bash-completion/completions/shadowai-scan:-rw-r--r--"
  "usr/share/doc/shadowai/quickstart.md:-rw-r--r--"
)

step ".deb metadata and contents"
info=$(dpkg-deb -I "$deb")
contains "Package: shadowai" "$info" '^ Package: shadowai$'
contains "Version: $version" "$info" "^ Version: $version\$"
depends=$(dpkg-deb -f "$deb" Depends)
for dependency in libbpf1 libvectorscan5 libsimdjson14 libssl3 libsystemd0 libstdc\\+\\+6 systemd ca-certificates; do
  contains "Depends on $dependency" "$(tr ',' '\n' <<<"$depends" | sed 's/^ *//')" "^$dependency( |$)"
done
contents=$(dpkg-deb -c "$deb")
for entry in "${expected_files[@]}"; do
  path=${entry%%:*}
  mode=${entry#*:}
  contains "$path ($mode root/root)" "$contents" "^$mode root/root +[0-9]+ [0-9-]+ [0-9:]+ \./$path\$"
done
lacks "nothing under /usr/local" "$contents" '\./usr/local/'
lacks "no credentials.json (keys are the operator's)" "$contents" 'credentials\.json'
lacks "no test or benchmark binary" "$contents" '_tests$|_bench$|/udp_send$|/connect_probe$'
dpkg-deb -e "$deb" "$work/control"
conffiles=$(cat "$work/control/conffiles")
contains "conffile /etc/shadowai/shadowaid.json" "$conffiles" '^/etc/shadowai/shadowaid\.json$'
contains "conffile /etc/shadowai/policy.d/00-default.json" "$conffiles" '^/etc/shadowai/policy\.d/00-default\.json$'
contains "conffile /etc/shadowai/endpoints.d/00-local.json" "$conffiles" '^/etc/shadowai/endpoints\.d/00-local\.json$'
for script in postinst prerm postrm; do
  check "$script is executable and valid sh" test -x "$work/control/$script"
  check "$script parses" sh -n "$work/control/$script"
done

step ".rpm metadata and contents"
rpm_info=$(rpm -qpi "$rpm_file" 2>/dev/null)
contains "Name: shadowai" "$rpm_info" '^Name +: shadowai$'
contains "Version: $version" "$rpm_info" "^Version +: $version\$"
requires=$(rpm -qp --requires "$rpm_file" 2>/dev/null)
for requirement in 'libbpf\.so\.1\(\)\(64bit\)' 'libhs\.so\.5\(\)\(64bit\)' 'libsimdjson\.so\.14\(\)\(64bit\)' \
                   'libssl\.so\.3\(\)\(64bit\)' 'libsystemd\.so\.0\(\)\(64bit\)' '^systemd$' '^ca-certificates$'; do
  contains "Requires $requirement" "$requires" "$requirement"
done
rpm_list=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}/%{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm_file" 2>/dev/null)
for entry in "${expected_files[@]}"; do
  path=${entry%%:*}
  mode=${entry#*:}
  contains "$path ($mode root/root)" "$rpm_list" "^$mode root/root [a-z]* /$path\$"
done
contains "%config(noreplace) shadowaid.json" "$rpm_list" '^-rw-r--r-- root/root cn /etc/shadowai/shadowaid\.json$'
contains "%config(noreplace) 00-default.json" "$rpm_list" '^-rw-r--r-- root/root cn /etc/shadowai/policy\.d/00-default\.json$'
contains "%config(noreplace) 00-local.json" "$rpm_list" '^-rw-r--r-- root/root cn /etc/shadowai/endpoints\.d/00-local\.json$'
lacks "does not own systemd's directories" "$rpm_list" ' /usr/lib/systemd/system$| /usr/lib/tmpfiles\.d$| /usr/share/man/man8$'
scripts=$(rpm -qp --scripts "$rpm_file" 2>/dev/null)
contains "%post creates the group" "$scripts" 'systemd-sysusers shadowai\.conf'
contains "%post enables the unit on a first install" "$scripts" 'systemctl enable shadowaid\.service'
contains "%preun stops the unit on erase" "$scripts" 'systemctl stop shadowaid\.service'
contains "%preun takes enforcement down on erase" "$scripts" 'shadowaid --remove-pins'
contains "%postun reloads systemd" "$scripts" 'systemctl daemon-reload'

step "a fresh Debian $suite root (debootstrap, cached in $cache_dir)"
mkdir -p "$cache_dir/apt-archives/partial"
tarball="$cache_dir/$suite-minbase.tar"
(
  flock 9
  if [ ! -s "$tarball" ]; then
    echo "package_test: debootstrap $suite from $mirror (first run only)" >&2
    debootstrap --variant=minbase "$suite" "$work/bootstrap" "$mirror" >"$work/debootstrap.log" 2>&1 || {
      tail -n 20 "$work/debootstrap.log" >&2
      exit 1
    }
    tar -C "$work/bootstrap" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$work/bootstrap"
  fi
) 9>"$cache_dir/.lock"
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
# No /sys: the package's prerm runs `shadowaid --remove-pins`, which must find no bpffs here.
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
# Downloaded packages are kept between runs.
mount --bind "$cache_dir/apt-archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
cp "$deb" "$root/tmp/"
pass "root ready"

step "apt installs the .deb with its dependencies"
if ! in_root apt-get update -qq >"$work/apt.log" 2>&1 ||
   ! in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >>"$work/apt.log" 2>&1; then
  tail -n 30 "$work/apt.log"
  fail "apt-get install ./$(basename "$deb")"
  exit 1
fi
pass "installed"
check "dpkg says installed" in_root dpkg-query -W -f='${Status}' shadowai
contains "shadowai-scan --version" "$(in_root shadowai-scan --version 2>&1)" "$version"
check "shadowaid --help" in_root shadowaid --help
check "shadowai --help" in_root shadowai --help
verify=$(in_root systemd-analyze verify --man=no /usr/lib/systemd/system/shadowaid.service 2>&1) && verify_status=0 || verify_status=$?
if [ "$verify_status" -eq 0 ] && [ -z "$verify" ]; then
  pass "systemd-analyze verify shadowaid.service: clean"
else
  fail "systemd-analyze verify shadowaid.service (status $verify_status): $verify"
fi
check "group shadowai exists" in_root getent group shadowai
contains "/var/lib/shadowai is 0700 root:root" "$(in_root stat -c '%a %U:%G' /var/lib/shadowai)" '^700 root:root$'
contains "/run/shadowai is 0750 root:shadowai" "$(in_root stat -c '%a %U:%G' /run/shadowai)" '^750 root:shadowai$'
contains "the unit is enabled" "$(in_root systemctl is-enabled shadowaid.service 2>&1)" '^enabled$'
first_message_id=$(grep -m1 '^-- ' "$root/usr/lib/systemd/catalog/shadowai.catalog" | cut -c4-)
contains "the journald catalog is compiled in" "$(in_root journalctl --list-catalog 2>/dev/null)" "^$first_message_id "
check "no shadowaid process was started" bash -c "! pgrep -f '^/usr/sbin/shadowaid' >/dev/null"
check "the shipped policy is valid (shadowai policy check, the configured policy_dir)" in_root shadowai policy check
contains "policy check reads the installed built-in detectors" "$(in_root shadowai policy check --json 2>&1)" \
  '"detectors_file": "/usr/share/shadowai/detectors\.json"'
# Real state for the purge below: the local CA, made as the daemon's first start would.
check "shadowai ca init" in_root shadowai ca init
contains "the CA key is 0600 root:root" "$(in_root stat -c '%a %U:%G' /var/lib/shadowai/ca/ca.key 2>&1)" '^600 root:root$'

step "an upgrade keeps an edited conffile and a disabled unit"
sed -i 's/"max_connections": 10000/"max_connections": 9000/' "$root/etc/shadowai/shadowaid.json"
check "the edit was made" grep -q '"max_connections": 9000' "$root/etc/shadowai/shadowaid.json"
in_root systemctl disable shadowaid.service >/dev/null 2>&1
dpkg-deb -R "$deb" "$work/upgrade"
sed -i "s/^Version: .*/Version: $version+upgrade1/" "$work/upgrade/DEBIAN/control"
dpkg-deb -b "$work/upgrade" "$root/tmp/upgrade.deb" >/dev/null
if in_root dpkg -i /tmp/upgrade.deb >"$work/upgrade.log" 2>&1; then pass "dpkg -i of version $version+upgrade1"; else cat "$work/upgrade.log"; fail "upgrade"; fi
check "the edit survived the upgrade" grep -q '"max_connections": 9000' "$root/etc/shadowai/shadowaid.json"
check "no .dpkg-new or .dpkg-dist left" bash -c "! ls '$root/etc/shadowai/'*.dpkg-* 2>/dev/null"
contains "the disabled unit stayed disabled" "$(in_root systemctl is-enabled shadowaid.service 2>&1 || true)" '^disabled$'
check "the edited configuration still loads (shadowai ca export reads it)" in_root shadowai --config /etc/shadowai/shadowaid.json ca export

step "remove keeps configuration and state; purge removes them"
if in_root dpkg -r shadowai >"$work/remove.log" 2>&1; then pass "dpkg -r"; else cat "$work/remove.log"; fail "dpkg -r"; fi
check "the binaries are gone" test ! -e "$root/usr/sbin/shadowaid"
check "the unit is gone" test ! -e "$root/usr/lib/systemd/system/shadowaid.service"
check "the edited conffile stays after remove" grep -q '"max_connections": 9000' "$root/etc/shadowai/shadowaid.json"
check "the state (the CA) stays after remove" test -f "$root/var/lib/shadowai/ca/ca.key"
if in_root dpkg -P shadowai >"$work/purge.log" 2>&1; then pass "dpkg -P"; else cat "$work/purge.log"; fail "dpkg -P"; fi
check "/etc/shadowai is gone after purge" test ! -e "$root/etc/shadowai"
check "/var/lib/shadowai is gone after purge" test ! -e "$root/var/lib/shadowai"
check "/run/shadowai is gone after purge" test ! -e "$root/run/shadowai"
check "dpkg no longer knows the package" bash -c "! chroot '$root' dpkg-query -W shadowai >/dev/null 2>&1"

echo
if [ "$failures" -ne 0 ]; then
  echo "package_test: $failures check(s) failed"
  exit 1
fi
echo "package_test: all checks passed"
