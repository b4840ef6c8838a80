#!/usr/bin/env bash
# Installs what certfleet's demo and tests need on a fresh Debian 12 machine (as root): the real
# servers the tests start themselves (Pebble, pebble-challtestsrv, nginx, BIND, PostgreSQL), the
# ACME clients the broker's tests use as devices (certbot, lego), what building and
# checking the single executable and the .deb take (binutils' strip, libatomic1 which the embedded
# Node.js links, systemd's systemd-analyze), npm packages, and the built bin/certfleet. Safe to run
# again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

export DEBIAN_FRONTEND=noninteractive
APT_PACKAGES=(pebble nginx bind9 bind9-dnsutils rsync binutils libatomic1 systemd postgresql certbot lego)

step "apt-get install ${APT_PACKAGES[*]}"
# The tests run their own nginx and named on loopback ports; stop the packages from starting
# their system services (port 80/53) while installing. policy-rc.d exit 101 = "action forbidden".
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  created_policy=true
fi
cleanup_policy() { if [[ $created_policy == true ]]; then rm -f "$policy"; fi; }
trap cleanup_policy EXIT

apt_retry() {
  local attempt
  for attempt in 1 2 3; do
    if "$@"; then return 0; fi
    echo "apt: attempt $attempt of '$*' failed; retrying in 10 s" >&2
    sleep 10
  done
  return 1
}
apt_retry apt-get update -q
apt_retry apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
cleanup_policy
created_policy=false

step "check required binaries"
missing=0
for bin in /usr/bin/pebble /usr/bin/pebble-challtestsrv /usr/sbin/nginx /usr/sbin/named /usr/bin/dig /usr/bin/rsync \
  /usr/bin/strip /usr/bin/systemd-analyze /usr/bin/dpkg-deb /usr/bin/certbot /usr/bin/lego $(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null || echo /usr/lib/postgresql/VERSION/bin/initdb); do
  if [[ -x $bin ]]; then
    echo "ok: $bin"
  else
    echo "MISSING: $bin (the apt-get install above should have provided it)" >&2
    missing=1
  fi
done
if [[ $missing != 0 ]]; then
  echo "error: required binaries are missing; see above" >&2
  exit 1
fi

step "versions"
echo "debian: $(cat /etc/debian_version)"
echo "node: $(node --version)"
echo "npm: $(npm --version 2>/dev/null)"
for pkg in "${APT_PACKAGES[@]}"; do
  echo "$pkg (deb): $(dpkg-query -W -f '${Version}' "$pkg")"
done
/usr/sbin/nginx -v 2>&1
/usr/sbin/named -v

step "npm ci"
npm ci --no-audit --no-fund

step "npm run build"
npm run build
