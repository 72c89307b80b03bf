#!/usr/bin/env bash
# The Debian packages `make test` needs besides Python: Chromium for the browser tests (Playwright
# drives /usr/bin/chromium; it cannot download a browser of its own here) and iproute2 for the
# test that builds the book in a network namespace without network (`ip link set lo up`).
#
# Missing ones are installed with apt-get when that is possible without a question (as root, or
# with sudo that needs no password); otherwise this stops at once, printing the command to run.
# CHROMIUM names the browser to look for (default /usr/bin/chromium; the tests set it to pretend
# it is missing).
set -euo pipefail

chromium="${CHROMIUM:-/usr/bin/chromium}"
missing=()
[ -x "$chromium" ] || missing+=(chromium)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0

packages="${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "make test needs the system packages: $packages (Debian names). There is no apt-get here:" \
       "install them with this system's package manager, then run make test again." >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "make test needs the system packages: $packages. Install them, then run make test again:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y $packages" >&2
  exit 1
fi
echo "make test: installing the missing system packages: $packages (apt-get)"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
[ -x "$chromium" ] || { echo "apt-get installed chromium but $chromium is still missing" >&2; exit 1; }
