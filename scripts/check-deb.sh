#!/usr/bin/env bash
# CI check of the Debian package (as root, on a machine where certfleet is not installed): packs
# the already built and tested dist/certfleet-linux-x64 (npm run build:exe), installs the .deb with
# dpkg -i, checks the certmaint user, runs `certfleet --version`, `init` and `plan` as certmaint on
# a conf dir in /etc/certfleet (made the way README.Debian says), verifies the installed units with
# systemd-analyze, then upgrades, removes and purges, checking after every step that the conf dir
# is byte for byte what it was and that certmaint was neither changed nor removed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }
installed() { [[ $(dpkg-query -W -f '${Status}' certfleet 2>/dev/null) == 'install ok installed' ]]; }

[[ $EUID == 0 ]] || fail "run as root (installs a package and may add the certmaint user)"
! installed || fail "certfleet is already installed here"
conf=/etc/certfleet
[[ ! -e $conf ]] || fail "$conf exists already; this check makes its own"

work=$(mktemp -d)
cleanup() {
  # Leaves the machine as it found it, except the certmaint user (which the package keeps, too).
  if dpkg-query -W certfleet >/dev/null 2>&1; then dpkg --purge certfleet >/dev/null || true; fi
  rm -rf "$conf" "$work"
}
trap cleanup EXIT

step "pack dist/certfleet-linux-x64 into a .deb"
deb=$(bash scripts/build-deb.sh)
ls -l "$deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb"

passwd_before=$(getent passwd certmaint || true)
step "dpkg -i $deb (certmaint $([[ -n $passwd_before ]] && echo exists already || echo does not exist yet))"
dpkg -i "$deb"
cmp /usr/bin/certfleet dist/certfleet-linux-x64 || fail "/usr/bin/certfleet is not the tested dist/certfleet-linux-x64"
passwd_after=$(getent passwd certmaint) || fail "no certmaint user after install"
if [[ -n $passwd_before ]]; then
  [[ $passwd_after == "$passwd_before" ]] || fail "install changed the existing certmaint: $passwd_before -> $passwd_after"
else
  IFS=: read -r _ _ uid gid _ home shell <<<"$passwd_after"
  (( uid < 1000 )) || fail "certmaint is not a system user (uid $uid)"
  [[ $(getent group certmaint | cut -d: -f3) == "$gid" ]] || fail "certmaint's primary group is not certmaint"
  [[ $home == /var/lib/certmaint && -d $home && $(stat -c %U "$home") == certmaint ]] || fail "certmaint's home: $home"
  [[ $shell == /usr/sbin/nologin ]] || fail "certmaint's shell: $shell"
fi
echo "certmaint: $passwd_after"
if find /etc/systemd/system -name 'certfleet.*' | grep -q .; then fail "the package enabled a unit"; fi
echo "certfleet.timer: not enabled"

step "certfleet --version (root and certmaint, empty environment)"
env -i /usr/bin/certfleet --version
runuser -u certmaint -- env -i /usr/bin/certfleet --version | grep -E '^[0-9.]+ \(commit [0-9a-f]+(-dirty)?, node v[0-9.]+, executable\)$'

step "a conf dir in $conf as README.Debian says; init and plan as certmaint"
install -d -o certmaint -g certmaint -m 0750 "$conf" "$conf/drop"
install -o certmaint -g certmaint -m 0640 /usr/share/doc/certfleet/examples/* "$conf/"
sed -i -e "s|^challengeDropDir:.*|challengeDropDir: $conf/drop|" -e "s|^accountKey:.*|accountKey: $conf/account.key|" "$conf/lematt.conf"
(cd "$conf" && runuser -u certmaint -- certfleet init --config "$conf/lematt.conf")
[[ $(stat -c '%U %a' "$conf/account.key") == 'certmaint 600' ]] || fail "account key: $(stat -c '%U %a' "$conf/account.key")"
(cd "$conf" && runuser -u certmaint -- certfleet plan --prod --config "$conf/lematt.conf" --json) >"$work/plan.json"
node -e '
  const rows = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const lines = require("fs").readFileSync("/etc/certfleet/domains", "utf8").split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"));
  if (rows.length !== lines.length * 2 || rows.some((r) => r.action !== "issue")) { console.error(rows); process.exit(1); }
  console.log(`plan: ${rows.length} rows, all "issue"`);' "$work/plan.json" || fail "unexpected plan"

# Everything about the conf dir that must survive: paths, types, modes, owners, sizes, mtimes, bytes.
snapshot() {
  (cd "$conf" && find . -printf '%p %y %m %u %g %s %T@\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
snapshot >"$work/conf.before"
check_conf() {
  snapshot >"$work/conf.now"
  diff -u "$work/conf.before" "$work/conf.now" || fail "$1 changed $conf"
  [[ $(getent passwd certmaint) == "$passwd_after" ]] || fail "$1 changed or removed certmaint"
  echo "$conf: untouched by $1 ($(grep -c ' f ' "$work/conf.before") files); certmaint unchanged"
}

step "systemd-analyze verify the installed units"
systemd-analyze verify /lib/systemd/system/certfleet.service /lib/systemd/system/certfleet.timer
echo "verify: ok"
systemd-analyze security --offline=true /lib/systemd/system/certfleet.service | tail -1

step "upgrade to the same package as revision 99"
dpkg-deb -R "$deb" "$work/upgrade"
sed -i -E 's/^(Version: .*)-[0-9]+$/\1-99/' "$work/upgrade/DEBIAN/control"
dpkg-deb --root-owner-group -Znone --build "$work/upgrade" "$work/upgrade.deb" >/dev/null
dpkg -i "$work/upgrade.deb"
dpkg-query -W -f '${Version}\n' certfleet | grep -q -- '-99$' || fail "the upgrade did not install"
check_conf "the upgrade"

step "dpkg -r certfleet"
dpkg -r certfleet
[[ ! -e /usr/bin/certfleet && ! -e /lib/systemd/system/certfleet.service && ! -e /lib/systemd/system/certfleet.timer ]] || fail "files left after removal"
check_conf "removal"

step "dpkg --purge certfleet"
dpkg --purge certfleet
if dpkg-query -W certfleet >/dev/null 2>&1; then fail "dpkg still knows certfleet after purge"; fi
[[ ! -e /usr/share/doc/certfleet ]] || fail "/usr/share/doc/certfleet left after purge"
check_conf "purge"

step "install again over the kept certmaint user"
dpkg -i "$deb" >/dev/null
[[ $(getent passwd certmaint) == "$passwd_after" ]] || fail "reinstall changed certmaint"
check_conf "a reinstall"
dpkg --purge certfleet >/dev/null
echo
echo "check-deb: ok"
