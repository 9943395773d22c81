#!/usr/bin/env bash
# Installs the Debian 12 packages osp's tests and benchmarks need, only when one is missing: redis-server
# (the cache tests), Ceph's monitor, OSD and radosgw (the real S3 upstream of @osp/testkit's startRadosgw),
# uuid-runtime, aws-cli, boto3 and s3cmd (real clients of the e2e tests), haproxy, nginx-light and prometheus's
# promtool (the deployment kit's checks and live load-balancer test; nginx and wrk are also the bench's
# baseline and load generator), docker-compose and kubectl (the manifest tests validate the compose file and
# the Kustomize tree with them; neither needs a running engine or cluster), chromium (headless, the browser of
# the CORS test). Idempotent; prints nothing when everything is present. Must run as root.
# Usage: scripts/install-system-deps.sh
set -euo pipefail

packages=(ceph-mon ceph-osd radosgw uuid-runtime redis-server awscli python3-boto3 s3cmd haproxy nginx-light prometheus wrk docker-compose chromium)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
# kubectl (the manifest test's `kubectl kustomize`): Debian's kubernetes-client, unless some other package
# already provides the command (the two conflict on /usr/bin/kubectl).
if ! command -v kubectl >/dev/null 2>&1; then
  missing+=(kubernetes-client)
fi
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
# Debian starts the packaged daemons; osp's tests start their own on free ports. Prometheus's default
# port 9090 is osp's admin port, and a stray nginx or haproxy would only hold ports and memory.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now prometheus nginx haproxy >/dev/null 2>&1 || true
fi
