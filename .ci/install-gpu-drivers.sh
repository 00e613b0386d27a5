#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa's llvmpipe) so the WebGPU conformance suite has an adapter on a
# machine without a GPU. Debian 12's own Mesa (22.3) gives Dawn no adapter (it lacks a feature Dawn needs);
# Mesa 25 from bookworm-backports works. Idempotent; a no-op where a Vulkan ICD is already installed or
# where apt-get is not available (the GPU tests then skip, saying why).
set -euo pipefail
if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && dpkg -s libvulkan1 >/dev/null 2>&1; then
  echo "install-gpu-drivers: llvmpipe already installed"; exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [[ $(id -u) -ne 0 ]]; then
  echo "install-gpu-drivers: no apt-get or not root; skipping (WebGPU tests will skip if no adapter exists)"; exit 0
fi
. /etc/os-release
if [[ ${VERSION_CODENAME:-} == bookworm ]]; then
  # the backports suite beside the machine's own bookworm source (same mirror, same keyring)
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
else
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi
echo "install-gpu-drivers: installed $(dpkg-query -W -f='${Package} ${Version}\n' mesa-vulkan-drivers)"
