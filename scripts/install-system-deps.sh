#!/usr/bin/env bash
# Installs the Debian 12 packages osp's tests need, only when one is missing: redis-server (the cache
# tests) and Ceph's monitor, OSD and radosgw (the real S3 upstream of @osp/testkit's startRadosgw),
# uuid-runtime, and aws-cli and boto3 (real clients of the e2e tests). Idempotent; prints nothing when everything is present. Must run as root.
# Usage: scripts/install-system-deps.sh
set -euo pipefail

packages=(ceph-mon ceph-osd radosgw uuid-runtime redis-server awscli python3-boto3)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

if ((EUID != 0)); then
  echo "install-system-deps: missing ${missing[*]}; run this script as root (sudo $0)" >&2
  exit 1
fi

echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
