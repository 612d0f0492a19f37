#!/bin/sh
# Usage: install-deps.sh PACKAGE...
# Installs the Debian packages that are missing (as root), or prints the exact apt-get line
# and fails (as anyone else). Prints nothing when everything is present. `npm` is present when
# the npm command is (whichever package provides it).
missing=""
for p in "$@"; do
  # npm: some nodejs builds bundle it (and conflict with Debian's npm package), so the command
  # counts; Debian's own nodejs needs the npm package.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing missing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends $missing && exit 0
  echo "apt-get failed; install by hand: apt-get install$missing" >&2
  exit 1
fi
echo "missing Debian packages; run as root:" >&2
echo "  sudo apt-get install$missing" >&2
exit 1
