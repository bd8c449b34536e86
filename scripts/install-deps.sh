#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test Berth (run as root).
# Package services are not started: installing a container engine must not start one.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (apt-get)" >&2
  exit 1
fi

packages=(
  build-essential cmake pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-system1.81-dev
  libspdlog-dev libfmt-dev libcli11-dev libarchive-dev libssl-dev zlib1g-dev
  libbz2-dev liblzma-dev libzstd-dev liblz4-dev
  libyaml-cpp-dev libseccomp-dev libcap-dev libnl-3-dev libnl-route-3-dev libnftables-dev nftables libbtrfsutil-dev
  libgtest-dev libgmock-dev clang libclang-rt-14-dev hey wrk
  busybox-static btrfs-progs xfsprogs iproute2 iptables procps psmisc util-linux tar gzip zstd curl openssl
  python3 python3-docker docker-compose skopeo apache2-utils podman docker.io docker-registry
  openssh-client openssh-server hyperfine
  qemu-system-x86 e2fsprogs systemd
  node-xterm chromium chromium-driver python3-selenium firefox-esr
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: everything is installed"
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
# No service may start from a package install (policy-rc.d 101 = "not now").
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# openssh-server is here for the tests' own throwaway sshd (tests/remote), never as a service: when
# this script installed it, keep Debian's service from ever starting (its unit honours this file).
if printf '%s\n' "${missing[@]}" | grep -qx openssh-server; then
  touch /etc/ssh/sshd_not_to_be_run
fi
